package gptoss.cli;

import gptoss.runtime.backend.BackendProvider;
import gptoss.runtime.backend.DeviceInfo;
import picocli.CommandLine.Command;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gptoss devices}: every backend's devices, with the index {@code --device} takes and their memory. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the devices of every backend (use with --backend NAME --device N).")
final class DevicesCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.printf(Locale.ROOT, "%-8s %6s  %-48s %10s  %s%n", "backend", "device", "name", "memory", "details");
        for (BackendProvider provider : BackendProvider.all()) {
            String reason = provider.unavailableReason();
            if (reason != null) {
                System.out.printf(Locale.ROOT, "%-8s %6s  unavailable: %s%n", provider.name(), "-", reason);
                continue;
            }
            for (DeviceInfo d : provider.devices()) {
                System.out.printf(Locale.ROOT, "%-8s %6d  %-48s %6.1f GiB  %s%n", d.backend(), d.index(), d.name(),
                        d.memoryBytes() / (double) (1L << 30), d.details());
            }
        }
        if (BackendProvider.all().stream().noneMatch(p -> p.name().equals("tornado"))) {
            System.out.printf(Locale.ROOT, "%-8s %6s  not built: set TORNADOVM_HOME to a TornadoVM installation and run ./gptoss again%n", "tornado", "-");
        }
        return 0;
    }
}
