package gptoss.model.tokenizer;

import java.util.Arrays;

/** A growable list of token ids without boxing, for building prompts. */
public final class TokenList {
    private int[] ids;
    private int size;

    public TokenList() {
        this(64);
    }

    public TokenList(int capacity) {
        ids = new int[Math.max(capacity, 8)];
    }

    public void add(int id) {
        if (size == ids.length) ids = Arrays.copyOf(ids, size * 2);
        ids[size++] = id;
    }

    public void addAll(int[] more) {
        if (size + more.length > ids.length) ids = Arrays.copyOf(ids, Math.max(size * 2, size + more.length));
        System.arraycopy(more, 0, ids, size, more.length);
        size += more.length;
    }

    public void clear() {
        size = 0;
    }

    public int size() {
        return size;
    }

    public int get(int index) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException(index);
        return ids[index];
    }

    public int[] toArray() {
        return Arrays.copyOf(ids, size);
    }
}
