package gptoss.cli;

import gptoss.model.npy.Npy;
import gptoss.model.testing.GoldenCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gptoss plan} and the --devices / --placement options of the model commands. */
class PlanCommandTest {

    record Result(int code, String out, String err) {
    }

    static synchronized Result gptoss(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void plan120bOnOneBigGpu() {
        Result r = gptoss("plan", "--preset", "120b", "--devices", "tornado:0=80GiB");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("tensors 60.77 GiB"), r.out());
        assertTrue(r.out().contains("layers 0-35 + head"), r.out());
        assertTrue(r.out().contains("4608 (128/layer)"), r.out());
    }

    @Test
    void impossiblePlanFailsWithNumbers() {
        Result r = gptoss("plan", "--preset", "120b", "--devices", "tornado:0=24GiB,tornado:1=24GiB");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("short by"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void needsExactlyOneModelSource() {
        assertEquals(1, gptoss("plan", "--devices", "cpu=1GiB").code());
        assertEquals(1, gptoss("plan", "--preset", "20b", "--model", "x", "--devices", "cpu=1GiB").code());
    }

    @Test
    void devicesAndPlacementRunTheGoldenCaseLikeOneDevice(@TempDir Path dir) throws Exception {
        String model = GoldenCase.caseA().toString();
        String tokens = "8000,1736,208,1,2,3,4,5,99,1000,4242,17";
        Path single = dir.resolve("single.npy"), devices = dir.resolve("devices.npy"), placed = dir.resolve("placed.npy");
        Path plan = dir.resolve("plan.json");
        // Warm the JIT first: cold Vector API code sums lanes in another order (a ~1e-5 difference).
        for (int i = 0; i < 3; i++) assertEquals(0, gptoss("logits", "--model", model, "--tokens", tokens, "--out", single.toString(), "--threads", "1").code());

        Result d = gptoss("logits", "--model", model, "--tokens", tokens, "--out", devices.toString(), "--threads", "1", "--context", "64",
                "--devices", "cpu:0=3600KiB,cpu:1=500KiB,cpu:2=4MiB");
        assertEquals(0, d.code(), d.err());
        assertTrue(d.err().contains("cpu:1       0.4 MiB of 0.5 MiB: holds layers 2-3"), "a three-stage pipeline: " + d.err());
        assertTrue(d.err().contains("cpu:0 -> cpu:1: 12 rows"), d.err());

        // Hybrid: the accelerator keeps the layers and the hottest experts of the profile, the host the rest.
        Path profile = dir.resolve("summary.json");
        try (var in = PlanCommandTest.class.getResourceAsStream("/placement/case-a-summary.json")) {
            Files.copy(in, profile);
        }
        Result p = gptoss("plan", "--model", model, "--devices", "tornado:0=550KiB,cpu=8MiB", "--reserve", "0", "--context", "64",
                "--profile", profile.toString(), "--out", plan.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("routing: measured profile over 40 tokens"), p.out());
        assertTrue(p.out().contains("head + engine        10 (1-4/layer)"), "10 cold experts on the host: " + p.out());
        assertTrue(Files.readString(plan).contains("\"format\" : \"gptoss-placement\""));
        // The plan names a tornado device; run it on CPU instances by rewriting the backend, as a test can.
        Files.writeString(plan, Files.readString(plan).replace("\"backend\" : \"tornado\"", "\"backend\" : \"cpu\"").replace("\"index\" : 0,\n      \"memory_bytes\" : 1048576", "\"index\" : 7,\n      \"memory_bytes\" : 1048576"));
        Result q = gptoss("logits", "--model", model, "--tokens", tokens, "--out", placed.toString(), "--threads", "1", "--placement", plan.toString());
        assertEquals(0, q.code(), q.err());

        float[] reference = Npy.read(single).toFloats();
        for (Path other : new Path[]{devices, placed}) {
            float[] x = Npy.read(other).toFloats();
            assertEquals(reference.length, x.length);
            float worst = 0;
            for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - reference[i]));
            assertTrue(worst <= 1e-5, other.getFileName() + ": max |logit - single| = " + worst);
        }
    }

    @Test
    void devicesAndPlacementTogetherAreRejected(@TempDir Path dir) {
        Result r = gptoss("logits", "--model", GoldenCase.caseA().toString(), "--tokens", "1", "--out", dir.resolve("x.npy").toString(),
                "--devices", "cpu=1GiB", "--placement", dir.resolve("p.json").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("not both"), r.err());
    }
}
