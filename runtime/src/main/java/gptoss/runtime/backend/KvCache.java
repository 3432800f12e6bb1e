package gptoss.runtime.backend;

/**
 * The keys and values one sequence has accumulated on one backend, for the layers that backend serves.
 * Created by {@link Backend#newKvCache}; only that backend reads or writes it.
 */
public interface KvCache extends AutoCloseable {

    /** Number of positions written so far (the next position to write). */
    int length();

    /** Forgets positions {@code >= length} so the sequence can continue from there (e.g. a shared prompt prefix). */
    void truncate(int length);

    /** Bytes held now. */
    long bytes();

    @Override
    default void close() {
    }
}
