package gptoss.model.gguf;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a GGUF file.
 *
 * @param dims ggml order, innermost (contiguous) first: {@code {cols, rows, experts}}
 * @param data exactly the tensor's bytes, a slice of the mapped file (never copied)
 */
public record GgufTensor(String name, GgmlType type, long[] dims, MemorySegment data, Path file) {

    public long elementCount() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /** The shape in row-major order, outermost first (what safetensors and this engine call the shape). */
    public long[] shape() {
        long[] s = new long[dims.length];
        for (int i = 0; i < dims.length; i++) s[i] = dims[dims.length - 1 - i];
        return s;
    }

    public String dimsString() {
        return Arrays.toString(dims);
    }

    /** "file: tensor 'name'", the prefix of every error about this tensor. */
    public String where() {
        return file.getFileName() + ": tensor '" + name + "'";
    }
}
