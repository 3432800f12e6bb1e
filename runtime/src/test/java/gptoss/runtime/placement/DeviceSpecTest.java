package gptoss.runtime.placement;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceSpecTest {

    @Test
    void parsesTheIssueExample() {
        List<DeviceSpec> d = DeviceSpec.parseList("tornado:0=24GiB,tornado:1=24GiB,cpu=64GiB");
        assertEquals(List.of(new DeviceSpec("tornado", 0, 24L << 30), new DeviceSpec("tornado", 1, 24L << 30),
                new DeviceSpec("cpu", 0, 64L << 30)), d);
        assertTrue(d.get(2).isHost());
    }

    @Test
    void missingIndexTakesTheLowestFreeOneAndMissingSizeAsksTheBackend() {
        List<DeviceSpec> d = DeviceSpec.parseList("cpu:0=1GiB, cpu=2GiB, cpu, tornado");
        assertEquals(List.of(new DeviceSpec("cpu", 0, 1L << 30), new DeviceSpec("cpu", 1, 2L << 30),
                new DeviceSpec("cpu", 2, DeviceSpec.ASK_BACKEND), new DeviceSpec("tornado", 0, DeviceSpec.ASK_BACKEND)), d);
    }

    @Test
    void badListsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> DeviceSpec.parseList("cpu:0=1GiB,cpu:0=2GiB"));
        assertThrows(IllegalArgumentException.class, () -> DeviceSpec.parseList("cpu:x=1GiB"));
        assertThrows(IllegalArgumentException.class, () -> DeviceSpec.parseList("cpu=lots"));
        assertThrows(IllegalArgumentException.class, () -> DeviceSpec.parseList(""));
    }

    @Test
    void memorySizes() {
        assertEquals(24L << 30, MemorySize.parse("24GiB"));
        assertEquals(1536L << 20, MemorySize.parse("1.5 GiB"));
        assertEquals(80_000_000_000L, MemorySize.parse("80GB"));
        assertEquals(512L << 20, MemorySize.parse("512mib"));
        assertEquals(4096, MemorySize.parse("4096"));
        assertEquals("60.77 GiB", MemorySize.format(65_248_815_744L));
        assertThrows(IllegalArgumentException.class, () -> MemorySize.parse("24 GiBs"));
    }
}
