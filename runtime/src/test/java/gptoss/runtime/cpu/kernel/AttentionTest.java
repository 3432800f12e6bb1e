package gptoss.runtime.cpu.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static gptoss.runtime.cpu.kernel.Attention.FULL;
import static gptoss.runtime.cpu.kernel.Attention.KEY_TILE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AttentionTest {
    static final int WINDOW = 128, RING = 256;

    /** Keys and values of one KV head for positions [0, n) with random queries and sinks; scale 1/√headDim. */
    record Case(int heads, int headDim, int n, float[] q, float[] k, float[] v, float[] sinks) {
        static Case random(int heads, int headDim, int n, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            float[] q = RandomTensors.gaussian(n * heads * headDim, random), k = RandomTensors.gaussian(n * headDim, random);
            float[] v = RandomTensors.gaussian(n * headDim, random), sinks = RandomTensors.gaussian(heads, random);
            for (int i = 0; i < q.length; i++) q[i] *= 2.5f; // sharper softmax: the running maximum moves
            return new Case(heads, headDim, n, q, k, v, sinks);
        }

        float scale() {
            return (float) (1 / Math.sqrt(headDim));
        }

        int qStride() {
            return heads * headDim;
        }
    }

    /** A cache of one KV head in {@link Attention}'s layout: slot = position (ring 0) or position mod ring. */
    static final class Cache {
        final int ring, headDim;
        final float[] keys, values;

        Cache(int ring, int capacity, int headDim) {
            this.ring = ring;
            this.headDim = headDim;
            keys = new float[capacity * headDim];
            values = new float[capacity * headDim];
        }

        void write(Case c, int position) {
            int slot = ring > 0 ? position % ring : position;
            for (int d = 0; d < headDim; d++) keys[Attention.tileKeys(slot, d, headDim)] = c.k[position * headDim + d];
            System.arraycopy(c.v, position * headDim, values, slot * headDim, headDim);
        }
    }

    static int capacity(int n) {
        return (n + KEY_TILE - 1) / KEY_TILE * KEY_TILE;
    }

    /**
     * Every row of {@code c} attended in chunks of {@code chunk} rows, each chunk written to the cache first, through
     * {@code plain} or the vector kernel.
     */
    static float[] chunked(Case c, int window, int ring, int chunk, boolean plain) {
        Cache cache = new Cache(ring, ring > 0 ? ring : capacity(c.n), c.headDim);
        float[] out = new float[c.n * c.qStride()];
        float[] scratch = new float[Attention.scratchSize(chunk, c.heads, c.headDim)];
        for (int first = 0; first < c.n; first += chunk) {
            int rows = Math.min(chunk, c.n - first);
            for (int p = first; p < first + rows; p++) cache.write(c, p);
            if (plain) {
                Attention.attendPlain(c.q, first * c.qStride(), c.qStride(), rows, first, c.heads, c.headDim, cache.keys, 0, ring,
                        cache.values, 0, c.headDim, window, c.sinks, 0, c.scale(), scratch, out, first * c.qStride(), c.qStride());
            } else {
                Attention.attend(c.q, first * c.qStride(), c.qStride(), rows, first, c.heads, c.headDim, cache.keys, 0, ring,
                        cache.values, 0, c.headDim, window, c.sinks, 0, c.scale(), scratch, out, first * c.qStride(), c.qStride());
            }
        }
        return out;
    }

    static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", one row at a time gives " + expected[i]);
            }
        }
    }

    @ParameterizedTest(name = "{0} heads of {1}, {2} positions, window {3}, ring {4}")
    @CsvSource({"8,64,300,128,256", "8,64,300,0,0", "4,64,200,128,256", "6,64,150,0,0", "1,64,140,128,256", "8,16,200,128,256", "5,32,130,0,0"})
    void chunksOfAnySizeGiveTheBitsOfOneRowAtATime(int heads, int headDim, int n, int window, int ring) {
        Case c = Case.random(heads, headDim, n, 31L * n + heads + headDim);
        int w = window == 0 ? FULL : window;
        float[] oneByOne = chunked(c, w, ring, 1, false);
        // A ring of 256 takes up to 256 - 128 + 1 rows ahead of their attention; a full cache any number.
        for (int chunk : ring > 0 ? new int[]{3, 64, 129} : new int[]{3, 64, 200}) {
            assertBitsEqual(oneByOne, chunked(c, w, ring, chunk, false), "chunks of " + chunk);
        }
    }

    @ParameterizedTest(name = "{0} heads of {1}, {2} positions, window {3}, ring {4}")
    @CsvSource({"8,64,300,128,256", "8,64,200,0,0", "6,64,150,0,0", "3,32,140,128,256", "8,16,100,0,0"})
    void vectorKernelFollowsThePlainOrderBitForBit(int heads, int headDim, int n, int window, int ring) {
        Case c = Case.random(heads, headDim, n, 7L * n + heads);
        int w = window == 0 ? FULL : window;
        for (int chunk : new int[]{1, 16, 64}) {
            assertBitsEqual(chunked(c, w, ring, chunk, true), chunked(c, w, ring, chunk, false), "vector vs plain, chunks of " + chunk);
        }
    }

    @ParameterizedTest(name = "{0} heads of {1}, {2} positions, window {3}")
    @CsvSource({"8,64,300,128,256", "8,64,300,0,0", "4,16,90,0,0", "6,64,200,128,256"})
    void matchesTheSpecReference(int heads, int headDim, int n, int window, int ring) {
        Case c = Case.random(heads, headDim, n, 3L * n + heads);
        int w = window == 0 ? FULL : window;
        float[] actual = chunked(c, w, ring, 64, false);
        float[] expected = new float[heads * headDim], scratch = new float[heads * n];
        for (int p = 0; p < n; p++) {
            int lo = window == 0 ? 0 : Math.max(0, p - window + 1);
            Attention.reference(c.q, p * c.qStride(), heads, headDim, c.k, lo * headDim, c.v, lo * headDim, headDim, p - lo + 1,
                    c.sinks, 0, c.scale(), scratch, expected, 0);
            for (int i = 0; i < expected.length; i++) {
                float a = actual[p * c.qStride() + i];
                assertEquals(expected[i], a, 2e-5f * (1 + Math.abs(expected[i])), "position " + p + ", output " + i);
            }
        }
    }

    @Test
    void sinkOnlyEnlargesTheDenominator() {
        // One key: out = v · e^s / (e^s + e^sink), by hand.
        float[] q = new float[16], sinks = {0.5f};
        Cache cache = new Cache(0, KEY_TILE, 16);
        float[] k = new float[16], v = new float[16];
        for (int d = 0; d < 16; d++) {
            q[d] = d % 3 - 1;
            k[d] = 0.25f * (d % 5);
            v[d] = d - 7.5f;
        }
        cache.write(new Case(1, 16, 1, q, k, v, sinks), 0);
        float[] out = new float[16];
        Attention.attend(q, 0, 16, 1, 0, 1, 16, cache.keys, 0, 0, cache.values, 0, 16, FULL, sinks, 0, 0.25f,
                new float[Attention.scratchSize(1, 1, 16)], out, 0, 16);
        double s = 0;
        for (int d = 0; d < 16; d++) s += q[d] * k[d] * 0.25;
        double weight = Math.exp(s) / (Math.exp(s) + Math.exp(0.5));
        for (int d = 0; d < 16; d++) assertEquals(weight * v[d], out[d], 1e-5, "output " + d);
    }
}
