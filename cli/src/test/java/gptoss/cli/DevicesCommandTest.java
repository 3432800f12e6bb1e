package gptoss.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DevicesCommandTest {

    @Test
    void listsTheCpuWithItsMemoryAndSaysWhereTornadoIsMissing() {
        PrintStream saved = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            code = Main.execute("devices");
        } finally {
            System.setOut(saved);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("cpu") && l.contains("host CPU") && l.contains("GiB")), out);
        // This module's tests run without the tornado backend on the class path.
        assertTrue(out.lines().anyMatch(l -> l.startsWith("tornado") && l.contains("TORNADOVM_HOME")), out);
    }
}
