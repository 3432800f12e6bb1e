package gptoss.runtime.engine;

import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.KvCache;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** One token sequence being decoded: its length and its KV cache on every backend that runs attention. */
public final class Sequence implements AutoCloseable {
    private final int id;
    private final Engine owner;
    private final Map<Backend, KvCache> caches = new IdentityHashMap<>();
    private int length;

    Sequence(Engine owner, int id, List<Backend> attentionBackends, int maxContext) {
        this.owner = owner;
        this.id = id;
        for (Backend b : attentionBackends) caches.put(b, b.newKvCache(maxContext));
    }

    public int id() {
        return id;
    }

    /** Tokens processed so far (the position of the next token). */
    public int length() {
        return length;
    }

    Engine owner() {
        return owner;
    }

    KvCache cache(Backend backend) {
        return caches.get(backend);
    }

    void advance(int tokens) {
        length += tokens;
    }

    /** Drops the tail from {@code newLength} on, to continue from an earlier point. */
    public void truncate(int newLength) {
        for (KvCache c : caches.values()) c.truncate(newLength);
        length = newLength;
    }

    /** Bytes of KV cache held across backends. */
    public long cacheBytes() {
        return caches.values().stream().mapToLong(KvCache::bytes).sum();
    }

    @Override
    public void close() {
        caches.values().forEach(KvCache::close);
    }
}
