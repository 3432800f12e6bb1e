package gptoss.runtime.profile;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * How often each token id occurred: a counter keyed by non-negative int, open addressing with linear probing
 * (no boxing on the recording path).
 */
final class TokenCounts {
    private static final int EMPTY = -1;

    private int[] keys = emptyKeys(16);
    private long[] values = new long[16];
    private int size;

    private static int[] emptyKeys(int capacity) {
        int[] k = new int[capacity];
        Arrays.fill(k, EMPTY);
        return k;
    }

    void add(int token, long count) {
        if (token < 0) throw new IllegalArgumentException("token id " + token + " is negative");
        if ((size + 1) * 4 > keys.length * 3) grow();
        int mask = keys.length - 1;
        int i = mix(token) & mask;
        while (keys[i] != EMPTY && keys[i] != token) i = (i + 1) & mask;
        if (keys[i] == EMPTY) {
            keys[i] = token;
            size++;
        }
        values[i] += count;
    }

    long get(int token) {
        int mask = keys.length - 1;
        int i = mix(token) & mask;
        while (keys[i] != EMPTY) {
            if (keys[i] == token) return values[i];
            i = (i + 1) & mask;
        }
        return 0;
    }

    /** Distinct tokens counted. */
    int size() {
        return size;
    }

    void addAll(TokenCounts other) {
        for (int i = 0; i < other.keys.length; i++) if (other.keys[i] != EMPTY) add(other.keys[i], other.values[i]);
    }

    /** The {@code n} most frequent tokens, ties broken by the lower id. */
    List<TokenCount> top(int n) {
        List<TokenCount> all = new ArrayList<>(size);
        for (int i = 0; i < keys.length; i++) if (keys[i] != EMPTY) all.add(new TokenCount(keys[i], values[i]));
        all.sort(Comparator.comparingLong(TokenCount::count).reversed().thenComparingInt(TokenCount::token));
        return List.copyOf(all.subList(0, Math.min(n, all.size())));
    }

    private void grow() {
        int[] oldKeys = keys;
        long[] oldValues = values;
        keys = emptyKeys(oldKeys.length * 2);
        values = new long[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) if (oldKeys[i] != EMPTY) add(oldKeys[i], oldValues[i]);
    }

    private static int mix(int key) {
        int h = key * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** One token and how often it occurred. */
    record TokenCount(int token, long count) {
    }
}
