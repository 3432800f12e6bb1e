package gptoss.tornado;

import gptoss.runtime.backend.BackendProvider;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.DeviceInfo;
import gptoss.runtime.backend.Shard;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The provider as the CLI finds it: by name through the ServiceLoader, with its devices. */
class TornadoBackendProviderTest {

    @Test
    void isFoundByNameAndSaysWhyWhenUnavailable() {
        BackendProvider p = BackendProvider.named("tornado");
        assertEquals("tornado", p.name());
        if (p.unavailableReason() != null) {
            assertTrue(p.devices().isEmpty(), "no devices without TornadoVM");
            var c = TornadoTests.golden().config();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.create(
                    new BackendRequest(c, TornadoTests.golden().weights(), 0, 1, Shard.all(c), false)));
            assertTrue(e.getMessage().contains("unavailable"), e.getMessage());
        }
    }

    @Test
    void listsDevicesWithMemoryAndRejectsAnUnknownIndex() {
        TornadoTests.assumeTornado();
        List<DeviceInfo> devices = BackendProvider.named("tornado").devices();
        assertFalse(devices.isEmpty());
        for (int i = 0; i < devices.size(); i++) {
            DeviceInfo d = devices.get(i);
            assertEquals(i, d.index());
            assertEquals("tornado", d.backend());
            assertTrue(d.memoryBytes() > 0, d + " reports no memory");
            assertFalse(d.name().isBlank());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TornadoInstallation.device(devices.size()));
        assertTrue(e.getMessage().contains("--device " + devices.size()), e.getMessage());
    }
}
