package gptoss.runtime.backend;

/**
 * Rows of activations processed together: one row per token, possibly from several sequences (batched decode)
 * or many positions of one sequence (prefill). Row t is token {@code tokens[t]} at absolute position
 * {@code positions[t]} of the sequence whose cache on this backend is {@code caches[t]}. Rows of one sequence
 * appear in increasing position order and continue that sequence's cache without gaps.
 */
public record TokenBatch(int[] tokens, int[] positions, KvCache[] caches) {
    public TokenBatch {
        if (tokens.length != positions.length || tokens.length != caches.length) {
            throw new IllegalArgumentException("batch arrays differ in length");
        }
    }

    public int size() {
        return tokens.length;
    }
}
