package gptoss.model.safetensors;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: its name, type, shape and the memory-mapped bytes holding it.
 *
 * @param file the file it lives in (for error messages)
 * @param data exactly the tensor's bytes, a slice of the mapped file (never copied)
 */
public record TensorEntry(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public int rank() {
        return shape.length;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    /** "file: tensor 'name'", the prefix of every error about this tensor. */
    public String where() {
        return file.getFileName() + ": tensor '" + name + "'";
    }
}
