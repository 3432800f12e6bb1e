package gptoss.api;

import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.TestModels;
import gptoss.sampling.Sampler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Continuous batching on a real engine with random weights. */
class SchedulerTest {
    @TempDir
    static Path dir;
    static Path checkpoint;

    @BeforeAll
    static void write() {
        checkpoint = TestModels.write(dir.resolve("m"), TestModels.config(2, 32, 4, 2, 8, 4, 2, 32, 201088, 8), 7,
                SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
    }

    static GptOss open(int maxSequences, int queue, int prefixEntries) {
        return GptOss.open(checkpoint, GptOssOptions.defaults().withContext(1024).withPrefillChunk(32).withThreads(2).withQuiet(true)
                .withMaxSequences(maxSequences).withQueueCapacity(queue).withPrefixCache(prefixEntries, 1L << 30));
    }

    static int[] prompt(int length, long seed) {
        Random r = new Random(seed);
        int[] p = new int[length];
        for (int i = 0; i < length; i++) p[i] = r.nextInt(199_990);
        return p;
    }

    static Scheduler.Request request(int[] prompt, long seed) {
        // Temperature 1 on random weights: an almost flat distribution over 201,088 tokens, where batched rows (which
        // agree with single rows to ~1e-6, not bit for bit) would move a draw that walks the CDF; the sampler's
        // exponential race keeps the same winner, so the seed decides the tokens alone or batched.
        return new Scheduler.Request(prompt, 24, Set.of(), TokenSelector.of(Sampler.of(1.0, 1.0, seed)));
    }

    @Test
    void aSeededRequestGivesTheSameTokensAloneAndAmongOthers() {
        int[][] prompts = {prompt(5, 1), prompt(70, 2), prompt(150, 3), prompt(12, 4), prompt(33, 5)};
        List<int[]> alone = new ArrayList<>();
        try (GptOss m = open(1, 8, 0)) {
            for (int i = 0; i < prompts.length; i++) alone.add(m.scheduler().submit(request(prompts[i], 100 + i), t -> true).await().tokens());
        }
        try (GptOss m = open(4, 8, 0)) {
            List<Scheduler.Job> jobs = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) jobs.add(m.scheduler().submit(request(prompts[i], 100 + i), t -> true));
            for (int i = 0; i < prompts.length; i++) {
                Scheduler.Result r = jobs.get(i).await();
                assertEquals(24, r.tokens().length);
                assertArrayEquals(alone.get(i), r.tokens(), "request " + i + " differs when batched");
            }
            double meanBatch = m.scheduler().decodeRows() / (double) m.scheduler().decodeSteps();
            assertTrue(meanBatch > 1.5, "decode steps ran several sequences at once: mean batch " + meanBatch);
            assertEquals(0, m.scheduler().activeSequences());
        }
    }

    @Test
    void aFullQueueRefusesAndCancellationFreesTheCache() throws Exception {
        try (GptOss m = open(1, 0, 0)) {
            CountDownLatch running = new CountDownLatch(1), release = new CountDownLatch(1);
            Scheduler.Job first = m.scheduler().submit(new Scheduler.Request(prompt(10, 9), 500, Set.of(), TokenSelector.of(Sampler.of(0, 1, 0))), t -> {
                running.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return true;
            });
            assertTrue(running.await(10, TimeUnit.SECONDS));
            assertThrows(Scheduler.QueueFullException.class, () -> m.scheduler().submit(request(prompt(4, 1), 1), t -> true));
            assertEquals(1, m.scheduler().activeSequences());
            assertTrue(m.scheduler().kvCacheBytes() >= 0);
            first.cancel();
            release.countDown();
            Scheduler.Result r = first.await();
            assertEquals(gptoss.sampling.StopReason.CANCELLED, r.reason());
            assertTrue(r.tokens().length < 500);
            assertEquals(0, m.scheduler().activeSequences());
            // the freed slot takes the next request
            assertEquals(24, m.scheduler().submit(request(prompt(4, 1), 1), t -> true).await().tokens().length);
            assertEquals(0, m.scheduler().kvCacheBytes(), "no cache kept: prefix reuse is off");
        }
    }

    @Test
    void aRepeatedPromptReusesTheCachedPrefixAndGivesTheSameAnswer() {
        try (GptOss m = open(2, 4, 4)) {
            int[] p = prompt(100, 11);
            Scheduler.Result first = m.scheduler().submit(new Scheduler.Request(p, 10, Set.of(), TokenSelector.of(Sampler.of(0, 1, 0))), t -> true).await();
            assertEquals(0, first.cachedTokens());
            assertEquals(1, m.scheduler().cachedPrefixes());
            Scheduler.Result second = m.scheduler().submit(new Scheduler.Request(p, 10, Set.of(), TokenSelector.of(Sampler.of(0, 1, 0))), t -> true).await();
            assertEquals(99, second.cachedTokens(), "all but the last prompt token come from the cache");
            assertArrayEquals(first.tokens(), second.tokens());
            // a prompt that only shares a few leading tokens does not take the entry
            int[] other = prompt(50, 12);
            other[0] = p[0];
            assertEquals(0, m.scheduler().submit(request(other, 3), t -> true).await().cachedTokens());
        }
    }

    @Test
    void stopStringsCutTheTextAndHoldBackPartialMatches() {
        GptOss.StopStrings s = new GptOss.StopStrings(List.of("END", "\n\n"));
        StringBuilder out = new StringBuilder();
        for (String d : List.of("abE", "N", "x", "yE", "ND and more")) {
            String released = s.append(d);
            out.append(released);
            assertTrue(!out.toString().contains("END"), "never releases a stop string: " + out);
        }
        assertTrue(s.stopped());
        assertEquals("abENxy", out.toString(), "\"EN\" was no stop after all; text ends before END");
        assertEquals("", s.flush());
        GptOss.StopStrings open = new GptOss.StopStrings(List.of("END"));
        assertEquals("a", open.append("aEN"));
        assertEquals("EN", open.flush(), "held-back text comes out at the end");
        GptOss.StopStrings none = new GptOss.StopStrings(List.of());
        assertEquals("anything", none.append("anything"));
    }
}
