package gptoss.model.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import gptoss.model.InvalidModelException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The o200k_harmony tokenizer of gpt-oss (spec §4): byte-level BPE with the o200k_base ranks (ids 0..199,997)
 * plus the Harmony special tokens (ids 199,998..201,087).
 *
 * <p>{@link #encode} is ordinary encoding: special-token text such as {@code <|start|>} is tokenized as plain
 * text and never yields a special id, so user text cannot forge message boundaries. Prompts get their special
 * ids from the Harmony renderer, which inserts them itself. Encoding is JTokkit's {@code O200K_BASE}
 * {@code encodeOrdinary} (same ranks, same pre-tokenizer regex as o200k_harmony); decoding uses a byte table read
 * from the same bundled rank file, whose checksum is verified at load.
 *
 * <p>Immutable and thread-safe; {@link #instance()} loads it once (about a second).
 */
public final class HarmonyTokenizer {
    /** Ordinary (BPE) tokens: ids 0..ORDINARY_TOKENS-1. */
    public static final int ORDINARY_TOKENS = 199_998;
    public static final int VOCAB_SIZE = SpecialTokens.END_ID;

    static final String RANKS_RESOURCE = "/com/knuddels/jtokkit/o200k_base.tiktoken";
    static final String RANKS_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d";

    private final Encoding bpe;
    private final byte[][] tokenBytes;

    private HarmonyTokenizer(Encoding bpe, byte[][] tokenBytes) {
        this.bpe = bpe;
        this.tokenBytes = tokenBytes;
    }

    private static volatile HarmonyTokenizer shared;

    /** The shared tokenizer, loaded on first use (a failed load throws and is retried on the next call). */
    public static HarmonyTokenizer instance() {
        HarmonyTokenizer t = shared;
        if (t == null) {
            synchronized (HarmonyTokenizer.class) {
                t = shared;
                if (t == null) shared = t = load();
            }
        }
        return t;
    }

    private static HarmonyTokenizer load() {
        byte[] file;
        try (InputStream in = HarmonyTokenizer.class.getResourceAsStream(RANKS_RESOURCE)) {
            if (in == null) throw new InvalidModelException("tokenizer: resource " + RANKS_RESOURCE + " not on the classpath (JTokkit 1.1.0 missing?)");
            file = in.readAllBytes();
        } catch (IOException e) {
            throw new InvalidModelException("tokenizer: cannot read " + RANKS_RESOURCE + " (" + e.getMessage() + ")", e);
        }
        String sha = sha256(file);
        if (!sha.equals(RANKS_SHA256)) {
            throw new InvalidModelException("tokenizer: " + RANKS_RESOURCE + " has sha256 " + sha + ", expected the o200k_base file " + RANKS_SHA256);
        }
        byte[][] table = parseRanks(file);
        Encoding bpe = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
        return new HarmonyTokenizer(bpe, table);
    }

    /** Parses "base64 SPACE rank" lines; the ranks must be exactly 0..199,997. */
    static byte[][] parseRanks(byte[] file) {
        byte[][] table = new byte[ORDINARY_TOKENS][];
        Base64.Decoder base64 = Base64.getDecoder();
        String text = new String(file, StandardCharsets.US_ASCII);
        int lineNumber = 0;
        int count = 0;
        for (String line : text.split("\n")) {
            lineNumber++;
            if (line.isEmpty()) continue;
            int space = line.indexOf(' ');
            int rank;
            byte[] bytes;
            try {
                rank = Integer.parseInt(line.substring(space + 1).trim());
                bytes = base64.decode(line.substring(0, space));
            } catch (RuntimeException e) {
                throw new InvalidModelException("tokenizer: " + RANKS_RESOURCE + " line " + lineNumber + " is not 'base64 rank'");
            }
            if (space <= 0 || rank < 0 || rank >= ORDINARY_TOKENS || table[rank] != null) {
                throw new InvalidModelException("tokenizer: " + RANKS_RESOURCE + " line " + lineNumber + " has bad or repeated rank " + rank);
            }
            table[rank] = bytes;
            count++;
        }
        if (count != ORDINARY_TOKENS) {
            throw new InvalidModelException("tokenizer: " + RANKS_RESOURCE + " has " + count + " ranks, expected " + ORDINARY_TOKENS);
        }
        return table;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // encoding

    /** Ordinary encoding: BPE only; special-token text is plain text, so no id is ever ≥ 199,998. */
    public int[] encode(String text) {
        if (text.isEmpty()) return new int[0];
        return bpe.encodeOrdinary(text).toArray();
    }

    /**
     * Encoding that turns the text of every special token (e.g. {@code <|start|>}) into its id and the rest into
     * ordinary tokens. Only for trusted text such as test vectors or hand-written raw prompts — never for user
     * input, which would then be able to open and close messages.
     */
    public int[] encodeWithSpecialTokens(String text) {
        TokenList out = new TokenList(text.length() / 3 + 4);
        int pieceStart = 0;
        int from = 0;
        while (true) {
            int open = text.indexOf("<|", from);
            if (open < 0) break;
            int close = text.indexOf("|>", open + 2);
            if (close < 0) break;
            int id = SpecialTokens.idOf(text.substring(open, close + 2));
            if (id < 0) {
                from = open + 1;
                continue;
            }
            out.addAll(encode(text.substring(pieceStart, open)));
            out.add(id);
            pieceStart = from = close + 2;
        }
        out.addAll(encode(text.substring(pieceStart)));
        return out.toArray();
    }

    // ---------------------------------------------------------------------------------------------------------
    // decoding

    /** The bytes of one token; a special token gives the UTF-8 of its text. */
    public byte[] tokenBytes(int id) {
        if (id >= 0 && id < ORDINARY_TOKENS) return tokenBytes[id].clone();
        if (SpecialTokens.isSpecial(id)) return SpecialTokens.name(id).getBytes(StandardCharsets.UTF_8);
        throw new IllegalArgumentException("token id " + id + " is outside the vocabulary 0.." + (VOCAB_SIZE - 1));
    }

    /** The concatenated bytes of the tokens (special tokens as their text). */
    public byte[] decodeBytes(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            if (id >= 0 && id < ORDINARY_TOKENS) out.writeBytes(tokenBytes[id]);
            else out.writeBytes(tokenBytes(id));
        }
        return out.toByteArray();
    }

    /** The text of the tokens; bytes that are not valid UTF-8 become U+FFFD (see {@link TextDecoder}). */
    public String decode(int[] ids) {
        TextDecoder decoder = newTextDecoder();
        return decoder.decodeBytes(decodeBytes(ids)) + decoder.flush();
    }

    /** A decoder for streaming output that emits only complete characters. */
    public TextDecoder newTextDecoder() {
        return new TextDecoder(this);
    }

    // ---------------------------------------------------------------------------------------------------------
    // vocabulary

    /** The id of a special token's text, e.g. {@code specialId("<|start|>") == 200006}. */
    public int specialId(String token) {
        int id = SpecialTokens.idOf(token);
        if (id < 0) throw new IllegalArgumentException("'" + token + "' is not an o200k_harmony special token");
        return id;
    }

    public boolean isSpecial(int id) {
        return SpecialTokens.isSpecial(id);
    }

    /** 201,088: ordinary plus special tokens, the model's logit count. */
    public int vocabSize() {
        return VOCAB_SIZE;
    }
}
