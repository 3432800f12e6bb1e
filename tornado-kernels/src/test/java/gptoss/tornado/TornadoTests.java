package gptoss.tornado;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.Shard;
import org.junit.jupiter.api.Assumptions;

/** Shared by the TornadoVM tests: skip (and say why) without TornadoVM; make backends. */
final class TornadoTests {
    private static boolean announced;
    private static Checkpoint golden;
    private static Backend goldenBackend;

    private TornadoTests() {
    }

    /** Skips the calling test, with the reason, when TornadoVM cannot run in this JVM. */
    static void assumeTornado() {
        String reason = TornadoInstallation.unavailableReason();
        if (reason != null && "none".equals(System.getProperty("gptoss.tornado.argfile"))) {
            reason = "no TornadoVM argfile given to Maven (-Dtornado.argfile=FILE; ci/test.sh passes one when it finds an installation)";
        }
        if (reason != null && !announced) {
            announced = true;
            System.err.println("TornadoVM tests SKIPPED: " + reason);
        }
        String why = reason;
        Assumptions.assumeTrue(why == null, () -> "TornadoVM tests skipped: " + why);
    }

    static boolean available() {
        return TornadoInstallation.unavailableReason() == null;
    }

    /** Device index for the tests: -Dgptoss.tornado.testDevice (default 0). */
    static int device() {
        return Integer.getInteger("gptoss.tornado.testDevice", 0);
    }

    /** A backend for the whole model of {@code ckpt}, with the given sizes. */
    static TornadoBackend backend(Checkpoint ckpt, TornadoSettings settings, boolean profile) {
        return new TornadoBackend(new BackendRequest(ckpt.config(), ckpt.weights(), device(), 1, Shard.all(ckpt.config()), profile),
                TornadoInstallation.device(device()), device(), settings);
    }

    /** Golden case A's checkpoint, opened once for all test classes (compiling a backend takes a while). */
    static synchronized Checkpoint golden() {
        if (golden == null) golden = Checkpoint.open(GoldenCase.caseA());
        return golden;
    }

    /** A backend for golden case A with the default settings, shared by the test classes of this JVM. */
    static synchronized Backend goldenBackend() {
        if (goldenBackend == null) goldenBackend = backend(golden(), TornadoSettings.fromSystemProperties(), false);
        return goldenBackend;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static int argmax(float[] v, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (v[offset + i] > v[offset + best]) best = i;
        return best;
    }
}
