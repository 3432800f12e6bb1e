package gptoss.model.npy;

import gptoss.model.InvalidModelException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files (format v1.0/v2.0, little-endian, C order): float32, float64, int32 and int64 are read
 * (the golden outputs); float32 is written (what {@code gptoss logits --out} writes).
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** An array read from a .npy file: its shape and its values widened to double. */
    public record Array(int[] shape, double[] values) {
        public int size() {
            return values.length;
        }

        public float[] toFloats() {
            float[] out = new float[values.length];
            for (int i = 0; i < out.length; i++) out[i] = (float) values[i];
            return out;
        }

        public int[] toInts() {
            int[] out = new int[values.length];
            for (int i = 0; i < out.length; i++) out[i] = (int) values[i];
            return out;
        }

        @Override
        public String toString() {
            return "npy" + Arrays.toString(shape);
        }
    }

    public static Array read(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new InvalidModelException(path + ": cannot read (" + e.getMessage() + ")", e);
        }
        String name = path.getFileName().toString();
        if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC)) {
            throw new InvalidModelException(name + ": not a .npy file");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int major = bytes[6];
        int headerLength = major == 1 ? Short.toUnsignedInt(buf.getShort(8)) : buf.getInt(8);
        int dataStart = (major == 1 ? 10 : 12) + headerLength;
        if (dataStart > bytes.length) throw new InvalidModelException(name + ": truncated header");
        String header = new String(bytes, major == 1 ? 10 : 12, headerLength, StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, name);
        if (group(ORDER, header, name).equals("True")) throw new InvalidModelException(name + ": Fortran order is not supported");
        String shapeText = group(SHAPE, header, name).trim();
        int[] shape = shapeText.isEmpty() ? new int[0]
                : Arrays.stream(shapeText.split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
        int count = 1;
        for (int d : shape) count = Math.multiplyExact(count, d);
        int width = switch (descr) {
            case "<f4", "<i4" -> 4;
            case "<f8", "<i8" -> 8;
            default -> throw new InvalidModelException(name + ": unsupported dtype " + descr);
        };
        if (dataStart + (long) count * width > bytes.length) throw new InvalidModelException(name + ": truncated data");
        double[] values = new double[count];
        buf.position(dataStart);
        for (int i = 0; i < count; i++) {
            values[i] = switch (descr) {
                case "<f4" -> buf.getFloat();
                case "<i4" -> buf.getInt();
                case "<f8" -> buf.getDouble();
                default -> buf.getLong();
            };
        }
        return new Array(shape, values);
    }

    private static String group(Pattern p, String header, String name) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw new InvalidModelException(name + ": malformed header " + header.trim());
        return m.group(1);
    }

    /** Writes float32 values of the given shape as a v1.0 .npy file. */
    public static void writeFloats(Path path, float[] values, int... shape) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) data.putFloat(v);
        write(path, "<f4", shape, data.array());
    }

    private static void write(Path path, String descr, int[] shape, byte[] data) throws IOException {
        StringBuilder shapeText = new StringBuilder();
        for (int d : shape) shapeText.append(d).append(", ");
        if (shape.length > 1) shapeText.setLength(shapeText.length() - 2);
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + shapeText.toString().trim() + "), }";
        int unpadded = 10 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        try (OutputStream out = Files.newOutputStream(path)) {
            out.write(MAGIC);
            out.write(new byte[]{1, 0});
            out.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) header.length()).array());
            out.write(header.getBytes(StandardCharsets.ISO_8859_1));
            out.write(data);
        }
    }
}
