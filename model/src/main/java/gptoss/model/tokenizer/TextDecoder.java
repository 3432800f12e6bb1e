package gptoss.model.tokenizer;

/**
 * Turns a stream of tokens into text, emitting only complete characters. A token can end in the middle of a
 * multi-byte UTF-8 character (e.g. an emoji split over two tokens); its leading bytes are held back until the
 * rest arrives. Bytes that can never form a character become U+FFFD, one per maximal invalid subsequence (the
 * WHATWG / Unicode "substitution of maximal subparts" rule, the same as Rust's {@code from_utf8_lossy} used by
 * the Harmony library), so {@code decode(a) + decode(b) + flush()} equals decoding all bytes at once.
 * Not thread-safe: one decoder per stream.
 */
public final class TextDecoder {
    public static final char REPLACEMENT = '\uFFFD';

    private final HarmonyTokenizer tokenizer;
    private int codePoint;
    private int bytesNeeded;
    private int bytesSeen;
    private int lowerBoundary = 0x80;
    private int upperBoundary = 0xBF;

    TextDecoder(HarmonyTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The characters completed by this token (possibly none); special tokens decode to their text. */
    public String decode(int token) {
        return decodeBytes(tokenizer.tokenBytes(token));
    }

    /** The characters completed by these bytes (possibly none). */
    public String decodeBytes(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length);
        for (byte b : bytes) accept(b & 0xFF, out);
        return out.toString();
    }

    /** Ends the stream: a held-back incomplete character becomes U+FFFD. The decoder can be reused afterwards. */
    public String flush() {
        if (bytesNeeded == 0) return "";
        reset();
        return String.valueOf(REPLACEMENT);
    }

    /** Whether bytes of an unfinished character are held back. */
    public boolean hasPendingBytes() {
        return bytesNeeded != 0;
    }

    private void accept(int b, StringBuilder out) {
        if (bytesNeeded == 0) {
            if (b < 0x80) {
                out.append((char) b);
            } else if (b >= 0xC2 && b <= 0xDF) {
                start(1, b & 0x1F);
            } else if (b >= 0xE0 && b <= 0xEF) {
                if (b == 0xE0) lowerBoundary = 0xA0;
                if (b == 0xED) upperBoundary = 0x9F; // no UTF-16 surrogates
                start(2, b & 0x0F);
            } else if (b >= 0xF0 && b <= 0xF4) {
                if (b == 0xF0) lowerBoundary = 0x90;
                if (b == 0xF4) upperBoundary = 0x8F; // nothing above U+10FFFF
                start(3, b & 0x07);
            } else {
                out.append(REPLACEMENT);
            }
            return;
        }
        if (b < lowerBoundary || b > upperBoundary) {
            // The held-back bytes are a maximal invalid subpart: one replacement, then b starts afresh.
            reset();
            out.append(REPLACEMENT);
            accept(b, out);
            return;
        }
        lowerBoundary = 0x80;
        upperBoundary = 0xBF;
        codePoint = (codePoint << 6) | (b & 0x3F);
        if (++bytesSeen == bytesNeeded) {
            out.appendCodePoint(codePoint);
            reset();
        }
    }

    private void start(int continuationBytes, int bits) {
        bytesNeeded = continuationBytes;
        bytesSeen = 0;
        codePoint = bits;
    }

    private void reset() {
        codePoint = 0;
        bytesNeeded = 0;
        bytesSeen = 0;
        lowerBoundary = 0x80;
        upperBoundary = 0xBF;
    }
}
