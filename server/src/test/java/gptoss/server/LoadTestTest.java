package gptoss.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A short load test: concurrent streams give the answers they give alone, and hung-up streams free their slots. */
class LoadTestTest {
    @Test
    void concurrentStreamsMatchTheirSoloAnswersAndHangUpsFreeSequences(@TempDir Path dir) throws Exception {
        try (ServerFixture fx = new ServerFixture(dir, ServerSettings.defaults(), 6, 16)) {
            LoadTest.Report r = new LoadTest(new LoadTest.Settings(fx.base(), null, "tiny", 6, 2, 12, 3, 3, 0.3)).run();
            assertTrue(r.ok(), r.table());
            assertEquals(0, r.errors(), r.table());
            assertEquals(0, r.mismatches(), r.table());
            assertTrue(r.completed() >= 12 && r.disconnected() >= 6, r.table());
            assertTrue(r.ttftP50Ms() > 0 && r.itlP50Ms() > 0 && r.ttftP99Ms() >= r.ttftP50Ms(), r.table());
            assertTrue(fx.model.scheduler().decodeRows() > fx.model.scheduler().decodeSteps(), "requests shared decode steps");
        }
    }
}
