package gptoss.tornado;

import gptoss.model.tensor.Bf16Tensor;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.GgmlMxfp4Tensor;
import gptoss.model.tensor.InterleavedRowsTensor;
import gptoss.model.tensor.Mxfp4Blocks;
import gptoss.model.tensor.Mxfp4Tensor;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * Host copies of weights in the form the kernels read, counted as they are made. Matrices keep their storage
 * format: BF16 as raw 16-bit words (decoded in the kernels, 2 bytes per weight), MXFP4 blocks and scales as bytes
 * (4.25 bits per weight). Vectors (norm scales, biases, sinks) become fp32, a few MB at most.
 */
final class DeviceArrays {
    private long bytes;
    /** The weight arrays made so far: uploaded once, never read on the host again. */
    private final List<TornadoNativeArray> weights = new ArrayList<>();
    /** The checkpoint bytes the big weight arrays were copied from (memory-mapped file slices, or not). */
    private final List<MemorySegment> sources = new ArrayList<>();
    private static final long PAGE = 4096;
    private static final int MADV_DONTNEED = 4;

    private <A extends TornadoNativeArray> A weight(A a) {
        weights.add(a);
        return a;
    }

    /**
     * Gives the host pages of every weight array back to the OS ({@code madvise(MADV_DONTNEED)} on the whole pages
     * inside each array), once TornadoVM has uploaded them: TornadoVM keeps a host array for every device buffer and
     * uploads a FIRST_EXECUTION array only once, so after the warm-up the host copy is dead weight (3.9 GiB for
     * bench-m). The arrays stay mapped (reads would see zeros); nothing reads them. Then the same for the pages of
     * the memory-mapped checkpoint the arrays were copied from: they count as the process's resident memory once
     * read (another 3.9 GiB for bench-m), and dropping them is always safe for a read-only file mapping (a later read
     * faults the page back in from the page cache or the file). Checkpoints copied into anonymous memory
     * ({@code gptoss.weights=copy}) are not mapped segments and are left alone. Returns the bytes released.
     */
    long releaseHostCopies() {
        MethodHandle madvise;
        try {
            Linker linker = Linker.nativeLinker();
            madvise = linker.downcallHandle(linker.defaultLookup().find("madvise").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        } catch (RuntimeException | LinkageError e) {
            return 0; // not Linux/glibc: keep the host copies
        }
        long released = 0;
        List<MemorySegment> pages = new ArrayList<>();
        for (TornadoNativeArray a : weights) pages.add(a.getSegment());
        for (MemorySegment source : sources) if (source.isMapped()) pages.add(source);
        for (MemorySegment seg : pages) {
            long start = (seg.address() + PAGE - 1) / PAGE * PAGE, end = (seg.address() + seg.byteSize()) / PAGE * PAGE;
            if (end <= start) continue;
            try {
                int rc = (int) madvise.invokeExact(MemorySegment.ofAddress(start), end - start, MADV_DONTNEED);
                if (rc == 0) released += end - start;
            } catch (Throwable t) {
                throw new IllegalStateException("madvise failed", t);
            }
        }
        weights.clear();
        sources.clear();
        return released;
    }

    /** Bytes of all arrays made so far (what the device holds once they are uploaded). */
    long bytes() {
        return bytes;
    }

    /** The BF16 matrices {@code parts} one after the other, as raw 16-bit words. */
    ShortArray bf16(String what, FloatTensor... parts) {
        long total = 0;
        for (FloatTensor p : parts) total += p.size();
        if (total > Integer.MAX_VALUE) throw new IllegalArgumentException(what + ": " + total + " elements exceed a device array");
        ShortArray out = new ShortArray((int) total);
        MemorySegment dst = out.getSegment();
        long at = 0;
        for (FloatTensor p : parts) {
            switch (p) {
                case Bf16Tensor b -> {
                    MemorySegment.copy(b.segment(), 0, dst, at * 2, b.byteSize());
                    sources.add(b.segment());
                }
                case Mxfp4Tensor m -> throw new IllegalArgumentException(what + " is MXFP4 where a dense BF16 matrix is expected");
                case GgmlMxfp4Tensor m -> throw new IllegalArgumentException(what + " is MXFP4 where a dense BF16 matrix is expected");
                case InterleavedRowsTensor m -> throw new IllegalArgumentException(what + " is an expert tensor where a dense BF16 matrix is expected");
                default -> { // F32, and GGUF's F16 / Q8_0: uploaded as BF16 only where that is exact
                    for (long i = 0; i < p.size(); i++) {
                        int bits = Float.floatToRawIntBits(p.getFloat(i));
                        if ((bits & 0xFFFF) != 0) {
                            throw new IllegalArgumentException(what + " is " + p.getClass().getSimpleName().replace("Tensor", "")
                                    + " with values that BF16 cannot hold exactly; the tornado backend keeps dense matrices as BF16");
                        }
                        dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, (at + i) * 2, (short) (bits >>> 16));
                    }
                }
            }
            at += p.size();
        }
        bytes += 2 * total;
        return weight(out);
    }

    /** Small tensors one after the other, as fp32. */
    FloatArray floats(FloatTensor... parts) {
        long n = 0;
        for (FloatTensor p : parts) n += p.size();
        FloatArray out = new FloatArray(Math.toIntExact(n));
        int at = 0;
        for (FloatTensor p : parts) {
            for (long i = 0; i < p.size(); i++) out.set(at++, p.getFloat(i));
        }
        bytes += 4 * n;
        return weight(out);
    }

    /** Concatenated {@code n}-element slices of {@code t} starting at each of {@code offsets}, as fp32. */
    FloatArray floatSlices(FloatTensor t, long[] offsets, int n) {
        FloatArray out = new FloatArray(Math.toIntExact((long) offsets.length * n));
        for (int s = 0; s < offsets.length; s++) {
            for (int i = 0; i < n; i++) out.set(s * n + i, t.getFloat(offsets[s] + i));
        }
        bytes += 4L * offsets.length * n;
        return weight(out);
    }

    /**
     * The MXFP4 blocks (or scales, {@code scales = true}) of the experts {@code experts} of a tensor whose
     * experts each span {@code expertElements} logical elements.
     */
    ByteArray mxfp4(FloatTensor t, int[] experts, long expertElements, long rowLength, boolean scales) {
        if (t instanceof Mxfp4Tensor m) return mxfp4(m, experts, expertElements, scales);
        // GGUF: ggml's 17-byte blocks (gate and up in separate tensors), re-packed to OpenAI's layout at upload.
        long blocksPerExpert = expertElements / Mxfp4Tensor.BLOCK;
        long perExpert = scales ? blocksPerExpert : blocksPerExpert * Mxfp4Tensor.BLOCK_BYTES;
        long total = perExpert * experts.length;
        if (total > Integer.MAX_VALUE) throw new IllegalArgumentException("MXFP4 experts of one layer exceed a device array: " + total + " bytes");
        ByteArray out = new ByteArray((int) total);
        MemorySegment dst = out.getSegment();
        byte[] codes = new byte[Mxfp4Tensor.BLOCK_BYTES];
        for (int i = 0; i < experts.length; i++) {
            for (long b = 0; b < blocksPerExpert; b++) {
                int e = Mxfp4Blocks.openAiBlock(t, rowLength, experts[i] * blocksPerExpert + b, codes);
                if (scales) dst.set(ValueLayout.JAVA_BYTE, i * perExpert + b, (byte) e);
                else MemorySegment.copy(codes, 0, dst, ValueLayout.JAVA_BYTE, i * perExpert + b * Mxfp4Tensor.BLOCK_BYTES, Mxfp4Tensor.BLOCK_BYTES);
            }
        }
        bytes += total;
        return weight(out);
    }

    private ByteArray mxfp4(Mxfp4Tensor t, int[] experts, long expertElements, boolean scales) {
        long perExpert = scales ? expertElements / Mxfp4Tensor.BLOCK : expertElements / Mxfp4Tensor.BLOCK * Mxfp4Tensor.BLOCK_BYTES;
        long total = perExpert * experts.length;
        if (total > Integer.MAX_VALUE) throw new IllegalArgumentException("MXFP4 experts of one layer exceed a device array: " + total + " bytes");
        ByteArray out = new ByteArray((int) total);
        MemorySegment src = scales ? t.scales() : t.blocks();
        for (int i = 0; i < experts.length; i++) {
            MemorySegment.copy(src, experts[i] * perExpert, out.getSegment(), i * perExpert, perExpert);
            sources.add(src.asSlice(experts[i] * perExpert, perExpert));
        }
        bytes += total;
        return weight(out);
    }

    /** A zeroed device buffer of {@code n} floats (activations, caches); counted too. */
    FloatArray zeros(long n) {
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("device buffer of " + n + " floats is too large");
        bytes += 4 * n;
        return new FloatArray((int) n);
    }
}
