package gptoss.model.memory;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.Optional;

/** C library functions on Linux, through the FFM linker; empty elsewhere or when native access is refused. */
final class Libc {
    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");

    private Libc() {
    }

    /** The function {@code name} with {@code signature}, if this is Linux and the C library has it. */
    static Optional<MethodHandle> function(String name, FunctionDescriptor signature) {
        if (!LINUX) return Optional.empty();
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find(name).map(symbol -> linker.downcallHandle(symbol, signature));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
