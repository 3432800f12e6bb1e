package gptoss.cli;

import gptoss.model.npy.Npy;
import gptoss.model.testing.GoldenCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gptoss plan} and the --devices / --placement options of the model commands. */
class PlanCommandTest {

    @Test
    void plan120bOnOneBigGpu() {
        CliRunner.Run r = CliRunner.run("plan", "--preset", "120b", "--devices", "tornado:0=80GiB");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("tensors 60.77 GiB"), r.out());
        assertTrue(r.out().contains("layers 0-35 + head"), r.out());
        assertTrue(r.out().contains("4608 (128/layer)"), r.out());
    }

    @Test
    void impossiblePlanFailsWithNumbers() {
        CliRunner.Run r = CliRunner.run("plan", "--preset", "120b", "--devices", "tornado:0=24GiB,tornado:1=24GiB");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("short by"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void needsExactlyOneModelSource() {
        assertEquals(1, CliRunner.run("plan", "--devices", "cpu=1GiB").exitCode());
        assertEquals(1, CliRunner.run("plan", "--preset", "20b", "--model", "x", "--devices", "cpu=1GiB").exitCode());
    }

    @Test
    void devicesAndPlacementRunTheGoldenCaseLikeOneDevice(@TempDir Path dir) throws Exception {
        String model = GoldenCase.caseA().toString();
        String tokens = "8000,1736,208,1,2,3,4,5,99,1000,4242,17";
        Path single = dir.resolve("single.npy"), devices = dir.resolve("devices.npy"), placed = dir.resolve("placed.npy");
        Path plan = dir.resolve("plan.json");
        // Warm the JIT first: cold Vector API code sums lanes in another order (a ~1e-5 difference).
        for (int i = 0; i < 3; i++) assertEquals(0, CliRunner.run("logits", "--model", model, "--tokens", tokens, "--out", single.toString(), "--threads", "1").exitCode());

        CliRunner.Run d = CliRunner.run("logits", "--model", model, "--tokens", tokens, "--out", devices.toString(), "--threads", "1", "--context", "64",
                "--devices", "cpu:0=3600KiB,cpu:1=500KiB,cpu:2=4MiB");
        assertEquals(0, d.exitCode(), d.err());
        assertTrue(d.err().contains("cpu:1       0.4 MiB of 0.5 MiB: holds layers 2-3"), "a three-stage pipeline: " + d.err());
        assertTrue(d.err().contains("cpu:0 -> cpu:1: 12 rows"), d.err());

        // Hybrid: the accelerator keeps the layers and the hottest experts of the profile, the host the rest.
        Path profile = dir.resolve("summary.json");
        try (var in = PlanCommandTest.class.getResourceAsStream("/placement/case-a-summary.json")) {
            Files.copy(in, profile);
        }
        CliRunner.Run p = CliRunner.run("plan", "--model", model, "--devices", "tornado:0=550KiB,cpu=8MiB", "--reserve", "0", "--context", "64",
                "--profile", profile.toString(), "--out", plan.toString());
        assertEquals(0, p.exitCode(), p.err());
        assertTrue(p.out().contains("routing: measured profile over 40 tokens"), p.out());
        assertTrue(p.out().contains("head + engine        10 (1-4/layer)"), "10 cold experts on the host: " + p.out());
        assertTrue(Files.readString(plan).contains("\"format\" : \"gptoss-placement\""));
        // The plan names a tornado device; run it on CPU instances by rewriting the backend, as a test can.
        Files.writeString(plan, Files.readString(plan).replace("\"backend\" : \"tornado\"", "\"backend\" : \"cpu\"").replace("\"index\" : 0,\n      \"memory_bytes\" : 1048576", "\"index\" : 7,\n      \"memory_bytes\" : 1048576"));
        CliRunner.Run q = CliRunner.run("logits", "--model", model, "--tokens", tokens, "--out", placed.toString(), "--threads", "1", "--placement", plan.toString());
        assertEquals(0, q.exitCode(), q.err());

        // A single-device run after the others too: if the JIT compiled a kernel in between, one of the two
        // references was taken in the same JIT state as each placed run.
        Path singleAfter = dir.resolve("single-after.npy");
        assertEquals(0, CliRunner.run("logits", "--model", model, "--tokens", tokens, "--out", singleAfter.toString(), "--threads", "1").exitCode());
        float[][] references = {Npy.read(single).toFloats(), Npy.read(singleAfter).toFloats()};
        for (Path other : new Path[]{devices, placed}) {
            float[] x = Npy.read(other).toFloats();
            float worst = Float.MAX_VALUE;
            for (float[] reference : references) {
                assertEquals(reference.length, x.length);
                float w = 0;
                for (int i = 0; i < x.length; i++) w = Math.max(w, Math.abs(x[i] - reference[i]));
                worst = Math.min(worst, w);
            }
            assertTrue(worst <= 1e-5, other.getFileName() + ": max |logit - single| = " + worst);
        }
    }

    @Test
    void devicesAndPlacementTogetherAreRejected(@TempDir Path dir) {
        CliRunner.Run r = CliRunner.run("logits", "--model", GoldenCase.caseA().toString(), "--tokens", "1", "--out", dir.resolve("x.npy").toString(),
                "--devices", "cpu=1GiB", "--placement", dir.resolve("p.json").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("not both"), r.err());
    }
}
