package gptoss.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReadBandwidthTest {
    /** Both reads sum exactly the ints of their range (ints 0, 1, 2, ...: the sum of a range is known in closed form). */
    @Test
    void readsSumEveryIntOfTheRange() {
        try (Arena arena = Arena.ofConfined()) {
            int ints = 1 << 16;
            MemorySegment buffer = arena.allocate(4L * ints, 64);
            for (int i = 0; i < ints; i++) buffer.setAtIndex(ValueLayout.JAVA_INT, i, i);
            assertEquals(sum(0, ints), ReadBandwidth.readInterleaved(buffer, 0, 4L * ints));
            assertEquals(sum(1024, 1024 + 8 * 64), ReadBandwidth.readInterleaved(buffer, 4096, 4096 + 8 * 256));
            assertEquals(sum(16, 16 + 100 * 16 + 48), ReadBandwidth.readSequential(buffer, 64, 64 + 100 * 64 + 192)); // not a multiple of 4 vectors
            assertThrows(IllegalArgumentException.class, () -> ReadBandwidth.readInterleaved(buffer, 0, 8 * 64 + 64));
        }
    }

    @Test
    void measuresAPositiveBandwidth() {
        assertTrue(ReadBandwidth.measure(1, 8 << 20, 1) > 0);
    }

    private static long sum(long from, long to) { // of the ints from .. to - 1
        return (to - 1) * to / 2 - (from - 1) * from / 2;
    }
}
