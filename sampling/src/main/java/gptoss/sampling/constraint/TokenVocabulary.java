package gptoss.sampling.constraint;

import gptoss.model.tokenizer.HarmonyTokenizer;

import java.util.Arrays;

/**
 * The byte strings of a vocabulary's ordinary tokens and the tables constrained decoding walks: a trie over all
 * token byte strings (preorder arrays, so a rejected prefix skips its whole subtree), a second trie over the tokens
 * that are not "plain string content", and bitsets of the plain tokens by character count. Built once per
 * tokenizer (about a second for o200k), immutable and thread-safe.
 */
public final class TokenVocabulary {
    private final byte[][] bytes;       // bytes[id] for ordinary ids; null for special ids
    private final int vocabSize;
    private final int maxTokenBytes;
    final Trie all;
    /** contentUpTo[k]: tokens that continue a string without closing it, of at most k characters (k ≤ maxPlainChars). */
    final long[][] contentUpTo;
    /** cleanUpTo[k]: those of them that end between characters (no escape or UTF-8 character left open). */
    final long[][] cleanUpTo;
    /** The content tokens that leave an escape or a UTF-8 character open, its characters, and the bytes it still owes. */
    final int[] openTailTokens, openTailChars, openTailBytes;
    final int maxPlainChars;
    /** Trie over the distinct "closing suffixes" (from a token's first unescaped quote on); token[] = group index. */
    final Trie closers;
    /** Per closing-suffix group: its tokens and the characters each puts in the string before the quote. */
    final int[][] closerTokens;
    final int[][] closerPrefixChars;
    final int[] singleByteToken = new int[256];

    private static volatile TokenVocabulary o200k;

    /** The o200k_harmony vocabulary (built on first use, then shared). */
    public static TokenVocabulary o200k() {
        TokenVocabulary v = o200k;
        if (v == null) {
            synchronized (TokenVocabulary.class) {
                v = o200k;
                if (v == null) o200k = v = of(HarmonyTokenizer.instance());
            }
        }
        return v;
    }

    public static TokenVocabulary of(HarmonyTokenizer tokenizer) {
        byte[][] table = new byte[tokenizer.vocabSize()][];
        for (int id = 0; id < HarmonyTokenizer.ORDINARY_TOKENS; id++) table[id] = tokenizer.tokenBytes(id);
        return new TokenVocabulary(table);
    }

    /** A vocabulary from explicit byte strings; a null entry is a special (control) token. */
    public TokenVocabulary(byte[][] tokenBytes) {
        this.bytes = tokenBytes.clone();
        this.vocabSize = tokenBytes.length;
        Arrays.fill(singleByteToken, -1);
        int longest = 0;
        boolean[] content = new boolean[vocabSize];
        int[] chars = new int[vocabSize];
        int[] tails = new int[vocabSize];
        int maxChars = 0;
        java.util.Map<String, java.util.List<int[]>> groups = new java.util.TreeMap<>();
        for (int id = 0; id < vocabSize; id++) {
            byte[] b = bytes[id];
            if (b == null) continue;
            if (b.length == 0) throw new IllegalArgumentException("token " + id + " has no bytes");
            longest = Math.max(longest, b.length);
            if (b.length == 1 && singleByteToken[b[0] & 0xFF] < 0) singleByteToken[b[0] & 0xFF] = id;
            long scan = scanString(b);
            if (scan == REJECTED) continue;
            int n = (int) scan & 0xFFFFFF;
            int quote = (int) (scan >> 32);
            if (quote < 0) {
                content[id] = true;
                chars[id] = n;
                tails[id] = (int) (scan >>> 24) & 0xFF;
                maxChars = Math.max(maxChars, n);
            } else {
                String suffix = new String(b, quote, b.length - quote, java.nio.charset.StandardCharsets.ISO_8859_1);
                groups.computeIfAbsent(suffix, k -> new java.util.ArrayList<>()).add(new int[]{id, n});
            }
        }
        this.maxTokenBytes = longest;
        this.maxPlainChars = maxChars;
        this.all = Trie.build(bytes, id -> true);
        int words = (vocabSize + 63) >>> 6;
        contentUpTo = new long[maxChars + 1][words];
        cleanUpTo = new long[maxChars + 1][words];
        int open = 0;
        for (int id = 0; id < vocabSize; id++) {
            if (!content[id]) continue;
            for (int k = chars[id]; k <= maxChars; k++) contentUpTo[k][id >>> 6] |= 1L << id;
            if (tails[id] == 0) {
                for (int k = chars[id]; k <= maxChars; k++) cleanUpTo[k][id >>> 6] |= 1L << id;
            } else {
                open++;
            }
        }
        openTailTokens = new int[open];
        openTailChars = new int[open];
        openTailBytes = new int[open];
        open = 0;
        for (int id = 0; id < vocabSize; id++) {
            if (!content[id] || tails[id] == 0) continue;
            openTailTokens[open] = id;
            openTailChars[open] = chars[id];
            openTailBytes[open++] = tails[id];
        }
        byte[][] suffixes = new byte[groups.size()][];
        closerTokens = new int[groups.size()][];
        closerPrefixChars = new int[groups.size()][];
        int g = 0;
        for (var e : groups.entrySet()) {
            suffixes[g] = e.getKey().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            closerTokens[g] = e.getValue().stream().mapToInt(x -> x[0]).toArray();
            closerPrefixChars[g] = e.getValue().stream().mapToInt(x -> x[1]).toArray();
            g++;
        }
        this.closers = Trie.build(suffixes, id -> true);
    }

    static final long REJECTED = Long.MIN_VALUE;

    /**
     * Reads a token as JSON string content from a clean position (no escape or UTF-8 character open): REJECTED if
     * a byte is invalid before any closing quote; else (quoteIndex or -1) << 32 | characters before the quote.
     * A token may end inside an escape or a UTF-8 character.
     */
    static long scanString(byte[] b) {
        int chars = 0;
        int pending = 0, lo = 0x80, hi = 0xBF;
        boolean escape = false;
        for (int i = 0; i < b.length; i++) {
            int c = b[i] & 0xFF;
            if (escape) {
                if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' && c != 't') return REJECTED;
                escape = false;
                continue;
            }
            if (pending > 0) {
                if (c < lo || c > hi) return REJECTED;
                lo = 0x80;
                hi = 0xBF;
                pending--;
                continue;
            }
            if (c == '"') return ((long) i << 32) | chars;
            if (c < 0x20) return REJECTED;
            chars++;
            if (c == '\\') escape = true;
            else if (c >= 0x80) {
                if (c >= 0xC2 && c <= 0xDF) pending = 1;
                else if (c >= 0xE0 && c <= 0xEF) {
                    pending = 2;
                    if (c == 0xE0) lo = 0xA0;
                    if (c == 0xED) hi = 0x9F;
                } else if (c >= 0xF0 && c <= 0xF4) {
                    pending = 3;
                    if (c == 0xF0) lo = 0x90;
                    if (c == 0xF4) hi = 0x8F;
                } else return REJECTED;
            }
        }
        int tail = escape ? 1 : pending; // bytes still owed to an open escape or UTF-8 character
        return (-1L << 32) | ((long) tail << 24) | chars;
    }

    public int size() {
        return vocabSize;
    }

    public boolean isSpecial(int id) {
        return id >= 0 && id < vocabSize && bytes[id] == null;
    }

    /** The token's bytes (do not modify); null for a special token. */
    public byte[] bytes(int id) {
        return bytes[id];
    }

    public int maxTokenBytes() {
        return maxTokenBytes;
    }

    /** A trie over token byte strings in preorder: node 0 is the root (depth 0). */
    static final class Trie {
        final byte[] label;
        final int[] depth;
        final int[] token;       // the token whose bytes end here, or -1
        final int[] subtreeEnd;  // one past the last node of the subtree
        final int size;

        private Trie(byte[] label, int[] depth, int[] token, int[] subtreeEnd, int size) {
            this.label = label;
            this.depth = depth;
            this.token = token;
            this.subtreeEnd = subtreeEnd;
            this.size = size;
        }

        static Trie build(byte[][] bytes, java.util.function.IntPredicate include) {
            int n = 0;
            long total = 1;
            int longest = 0;
            for (int id = 0; id < bytes.length; id++) {
                if (bytes[id] != null && include.test(id)) {
                    n++;
                    total += bytes[id].length;
                    longest = Math.max(longest, bytes[id].length);
                }
            }
            Integer[] order = new Integer[n];
            n = 0;
            for (int id = 0; id < bytes.length; id++) if (bytes[id] != null && include.test(id)) order[n++] = id;
            Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
            int cap = (int) Math.min(total, Integer.MAX_VALUE - 8);
            byte[] label = new byte[cap];
            int[] depth = new int[cap];
            int[] token = new int[cap];
            int[] end = new int[cap];
            Arrays.fill(token, -1);
            int size = 1; // root
            int[] path = new int[longest + 1]; // path[d] = node at depth d on the current branch
            byte[] prev = new byte[0];
            for (int id : order) {
                byte[] b = bytes[id];
                int common = 0;
                while (common < prev.length && common < b.length && prev[common] == b[common]) common++;
                // close the nodes of prev deeper than common
                for (int d = prev.length; d > common; d--) end[path[d]] = size;
                for (int d = common + 1; d <= b.length; d++) {
                    label[size] = b[d - 1];
                    depth[size] = d;
                    path[d] = size++;
                }
                token[path[b.length]] = id;
                prev = b;
            }
            for (int d = prev.length; d >= 1; d--) end[path[d]] = size;
            end[0] = size;
            return new Trie(Arrays.copyOf(label, size), Arrays.copyOf(depth, size), Arrays.copyOf(token, size), Arrays.copyOf(end, size), size);
        }
    }
}
