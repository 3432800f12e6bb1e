package gptoss.sampling.constraint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A JSON schema compiled to a pushdown automaton over bytes. The parser state is a small int array (a stack of
 * frames: node, state, a, b, c) so that a trie walk can copy it per byte; {@link #step} advances it by one byte or
 * rejects, and {@link #minClose} gives the fewest bytes that complete the value from a state (exact, so that
 * following a shortest completion lowers it by one per byte). Immutable and thread-safe.
 *
 * <p>Supported: type (also as a list), object properties / required (undeclared properties are never generated,
 * so {@code additionalProperties} is always honoured), object without properties (a free map, any keys, values
 * by {@code additionalProperties}), array items / minItems / maxItems, string minLength / maxLength, number and
 * integer minimum / maximum / exclusiveMinimum / exclusiveMaximum (no exponents; fractions only where the whole
 * unit interval is in range), boolean, null, enum, const, anyOf / oneOf whose branches start with different bytes
 * (e.g. string | null), local {@code $ref} ({@code #}, {@code #/$defs/..}, {@code #/definitions/..}), and the
 * any-JSON value. Whitespace runs are bounded; strings are valid UTF-8 and use the short escapes only.
 */
public final class JsonGrammar {
    static final int OBJECT = 0, ARRAY = 1, STRING = 2, NUMBER = 3, LITERALS = 4, ANYOF = 5;
    static final int ROOT = -1;
    static final int FRAME = 5, HEADER = 2;
    static final int INF = 1 << 28;
    static final long MAX_INT = 999_999_999_999_999L; // 15 digits

    private static final Set<String> IGNORED = Set.of("title", "description", "default", "examples", "$schema", "$id",
            "$comment", "format", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "strict", "nullable");
    private static final Set<String> UNSUPPORTED = Set.of("pattern", "patternProperties", "propertyNames", "minProperties",
            "maxProperties", "uniqueItems", "prefixItems", "contains", "minContains", "maxContains", "multipleOf", "allOf",
            "not", "if", "then", "else", "dependentRequired", "dependentSchemas", "dependencies", "unevaluatedProperties",
            "unevaluatedItems", "contentEncoding", "contentMediaType", "$dynamicRef", "$anchor");

    final Node[] nodes;
    final int root;
    final int maxFrames;
    final int maxWhitespace;

    private final int keyStringNode;

    private JsonGrammar(Node[] nodes, int root, int keyStringNode, int maxDepth, int maxWhitespace) {
        this.nodes = nodes;
        this.keyStringNode = keyStringNode;
        this.root = root;
        this.maxFrames = maxDepth + 2;
        this.maxWhitespace = maxWhitespace;
    }

    /** A compiled schema node. */
    static final class Node {
        int kind;
        int minLen = INF;
        final boolean[] first = new boolean[256];
        // OBJECT
        boolean freeMap;
        int valueNode = -1;
        int[] propNode = new int[0];
        int[] keyLen = new int[0];
        long required;
        LitTrie keys;
        // ARRAY
        int itemNode, minItems, maxItems = Integer.MAX_VALUE;
        // STRING
        int minLength, maxLength = Integer.MAX_VALUE;
        // NUMBER
        boolean integer;
        long minI = -MAX_INT, maxI = MAX_INT;  // integer values allowed
        double min = Double.NEGATIVE_INFINITY, max = Double.POSITIVE_INFINITY;
        boolean exMin, exMax;
        // LITERALS
        LitTrie lits;
        // ANYOF
        int[] branches;
    }

    /** A byte trie over a few literal strings (enum values, property keys). */
    static final class LitTrie {
        final List<byte[]> labels = new ArrayList<>();
        final List<int[]> targets = new ArrayList<>();
        final List<Integer> terminal = new ArrayList<>();
        final List<Long> subMask = new ArrayList<>();
        int[] rest;     // fewest bytes from a node to a terminal
        int[] depthOf;

        LitTrie() {
            newNode();
        }

        private int newNode() {
            labels.add(new byte[0]);
            targets.add(new int[0]);
            terminal.add(-1);
            subMask.add(0L);
            return labels.size() - 1;
        }

        void add(byte[] s, int value) {
            int node = 0;
            subMask.set(0, subMask.get(0) | bit(value));
            for (byte b : s) {
                int next = child(node, b);
                if (next < 0) {
                    next = newNode();
                    byte[] l = labels.get(node);
                    int[] t = targets.get(node);
                    byte[] l2 = java.util.Arrays.copyOf(l, l.length + 1);
                    int[] t2 = java.util.Arrays.copyOf(t, t.length + 1);
                    l2[l.length] = b;
                    t2[t.length] = next;
                    labels.set(node, l2);
                    targets.set(node, t2);
                }
                node = next;
                subMask.set(node, subMask.get(node) | bit(value));
            }
            if (terminal.get(node) < 0) terminal.set(node, value);
        }

        private static long bit(int value) {
            return value < 64 ? 1L << value : 0;
        }

        int child(int node, byte b) {
            byte[] l = labels.get(node);
            for (int i = 0; i < l.length; i++) if (l[i] == b) return targets.get(node)[i];
            return -1;
        }

        boolean hasChildren(int node) {
            return labels.get(node).length > 0;
        }

        void freeze() {
            int n = labels.size();
            rest = new int[n];
            depthOf = new int[n];
            for (int i = n - 1; i >= 0; i--) { // children have larger ids than their parents
                int r = terminal.get(i) >= 0 ? 0 : INF;
                for (int c : targets.get(i)) r = Math.min(r, rest[c] + 1);
                rest[i] = r;
            }
            for (int i = 0; i < n; i++) for (int c : targets.get(i)) depthOf[c] = depthOf[i] + 1;
            frozen = new Frozen(labels, targets, terminal, subMask);
        }

        Frozen frozen;

        /** Array form for the hot path. */
        record Frozen(byte[][] labels, int[][] targets, int[] terminal, long[] subMask) {
            Frozen(List<byte[]> l, List<int[]> t, List<Integer> term, List<Long> m) {
                this(l.toArray(new byte[0][]), t.toArray(new int[0][]), term.stream().mapToInt(Integer::intValue).toArray(),
                        m.stream().mapToLong(Long::longValue).toArray());
            }

            int child(int node, int b) {
                byte[] l = labels[node];
                for (int i = 0; i < l.length; i++) if (l[i] == (byte) b) return targets[node][i];
                return -1;
            }
        }
    }

    // -------------------------------------------------------------------------------------------------------
    // compiling

    /** The grammar of any JSON value (for {@code response_format: json_object}); compiled once, shared. */
    public static JsonGrammar anyJson() {
        return AnyJson.GRAMMAR;
    }

    private static final class AnyJson {
        static final JsonGrammar GRAMMAR = compile(new ObjectMapper().createObjectNode());
    }

    public static JsonGrammar compile(JsonNode schema) {
        return compile(schema, 32, 8);
    }

    /**
     * @param maxDepth      deepest nesting of objects/arrays for free-form (any-JSON) values
     * @param maxWhitespace longest run of whitespace bytes between tokens of the JSON text
     */
    public static JsonGrammar compile(JsonNode schema, int maxDepth, int maxWhitespace) {
        if (schema == null) throw new IllegalArgumentException("schema is null");
        Compiler c = new Compiler(schema);
        if (maxDepth < 1 || maxWhitespace < 0) throw new IllegalArgumentException("maxDepth must be >= 1 and maxWhitespace >= 0");
        int root = c.compile(schema, "#");
        int key = c.keyString();
        c.finish(root);
        return new JsonGrammar(c.nodes.toArray(new Node[0]), root, key, maxDepth, maxWhitespace);
    }

    private static final class Compiler {
        final JsonNode document;
        final List<Node> nodes = new ArrayList<>();
        final Map<JsonNode, Integer> done = new IdentityHashMap<>();
        final Map<String, Integer> shared = new LinkedHashMap<>();
        final ObjectMapper json = new ObjectMapper();

        Compiler(JsonNode document) {
            this.document = document;
        }

        int add(Node n) {
            nodes.add(n);
            return nodes.size() - 1;
        }

        IllegalArgumentException bad(String path, String problem) {
            return new IllegalArgumentException("unsupported JSON schema at " + path + ": " + problem);
        }

        int any() {
            Integer id = shared.get("any");
            if (id != null) return id;
            Node anyOf = new Node();
            anyOf.kind = ANYOF;
            int self = add(anyOf);
            shared.put("any", self);
            Node map = new Node();
            map.kind = OBJECT;
            map.freeMap = true;
            map.valueNode = self;
            Node arr = new Node();
            arr.kind = ARRAY;
            arr.itemNode = self;
            Node str = new Node();
            str.kind = STRING;
            Node num = new Node();
            num.kind = NUMBER;
            Node lit = new Node();
            lit.kind = LITERALS;
            lit.lits = new LitTrie();
            lit.lits.add("true".getBytes(StandardCharsets.US_ASCII), 0);
            lit.lits.add("false".getBytes(StandardCharsets.US_ASCII), 1);
            lit.lits.add("null".getBytes(StandardCharsets.US_ASCII), 2);
            anyOf.branches = new int[]{add(map), add(arr), add(str), add(num), add(lit)};
            return self;
        }

        int keyString() {
            Integer id = shared.get("key");
            if (id != null) return id;
            Node s = new Node();
            s.kind = STRING;
            id = add(s);
            shared.put("key", id);
            return id;
        }

        int compile(JsonNode s, String path) {
            Integer known = done.get(s);
            if (known != null) return known;
            if (s.isBoolean()) {
                if (!s.booleanValue()) throw bad(path, "the schema false matches nothing");
                return any();
            }
            if (!s.isObject()) throw bad(path, "a schema must be an object or a boolean");
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (UNSUPPORTED.contains(k)) throw bad(path, "keyword '" + k + "' is not supported");
            }
            if (s.has("$ref")) {
                String ref = s.get("$ref").asText();
                if (!ref.startsWith("#")) throw bad(path, "only local $ref (#...) is supported, got '" + ref + "'");
                JsonNode target = ref.equals("#") ? document : document.at(ref.substring(1));
                if (target.isMissingNode()) throw bad(path, "$ref '" + ref + "' points nowhere");
                // reserve an id so that recursive references resolve to it
                Node alias = new Node();
                alias.kind = ANYOF;
                int id = add(alias);
                done.put(s, id);
                alias.branches = new int[]{compile(target, ref)};
                return id;
            }
            Node n = new Node();
            int id = add(n);
            done.put(s, id);
            if (s.has("enum") || s.has("const")) {
                n.kind = LITERALS;
                n.lits = new LitTrie();
                List<JsonNode> values = new ArrayList<>();
                if (s.has("const")) values.add(s.get("const"));
                if (s.has("enum")) {
                    if (!s.get("enum").isArray() || s.get("enum").isEmpty()) throw bad(path, "enum must be a non-empty array");
                    s.get("enum").forEach(values::add);
                }
                int v = 0;
                for (JsonNode value : values) {
                    if (!typeAllows(s.get("type"), value)) continue;
                    if (s.has("const") && s.has("enum") && v > 0 && !value.equals(s.get("const"))) continue;
                    try {
                        n.lits.add(json.writeValueAsBytes(value), v++);
                    } catch (Exception e) {
                        throw bad(path, "cannot serialise enum value " + value);
                    }
                }
                if (v == 0) throw bad(path, "no enum/const value matches the type");
                return id;
            }
            JsonNode alternatives = s.has("anyOf") ? s.get("anyOf") : s.get("oneOf");
            if (alternatives != null) {
                if (!alternatives.isArray() || alternatives.isEmpty()) throw bad(path, "anyOf/oneOf must be a non-empty array");
                n.kind = ANYOF;
                int[] br = new int[alternatives.size()];
                for (int i = 0; i < br.length; i++) br[i] = compile(alternatives.get(i), path + "/anyOf/" + i);
                n.branches = br;
                return id;
            }
            JsonNode type = s.get("type");
            if (type != null && type.isArray()) {
                n.kind = ANYOF;
                int[] br = new int[type.size()];
                for (int i = 0; i < br.length; i++) {
                    com.fasterxml.jackson.databind.node.ObjectNode copy = s.deepCopy();
                    copy.set("type", type.get(i));
                    br[i] = compile(copy, path);
                }
                n.branches = br;
                return id;
            }
            String t = type == null ? inferType(s) : type.asText();
            switch (t) {
                case "object" -> compileObject(s, n, path);
                case "array" -> {
                    n.kind = ARRAY;
                    n.itemNode = s.has("items") ? compile(s.get("items"), path + "/items") : any();
                    n.minItems = intField(s, "minItems", 0, path);
                    n.maxItems = intField(s, "maxItems", Integer.MAX_VALUE, path);
                    if (n.minItems > n.maxItems) throw bad(path, "minItems > maxItems");
                }
                case "string" -> {
                    n.kind = STRING;
                    n.minLength = intField(s, "minLength", 0, path);
                    n.maxLength = intField(s, "maxLength", Integer.MAX_VALUE, path);
                    if (n.minLength > n.maxLength) throw bad(path, "minLength > maxLength");
                }
                case "integer", "number" -> compileNumber(s, n, t.equals("integer"), path);
                case "boolean", "null" -> {
                    n.kind = LITERALS;
                    n.lits = new LitTrie();
                    if (t.equals("null")) {
                        n.lits.add("null".getBytes(StandardCharsets.US_ASCII), 0);
                    } else {
                        n.lits.add("true".getBytes(StandardCharsets.US_ASCII), 0);
                        n.lits.add("false".getBytes(StandardCharsets.US_ASCII), 1);
                    }
                }
                case "any" -> {
                    n.kind = ANYOF;
                    n.branches = new int[]{any()};
                }
                default -> throw bad(path, "unknown type '" + t + "'");
            }
            return id;
        }

        private static boolean typeAllows(JsonNode type, JsonNode value) {
            if (type == null) return true;
            if (type.isArray()) {
                for (JsonNode t : type) if (typeAllows(t, value)) return true;
                return false;
            }
            return switch (type.asText()) {
                case "string" -> value.isTextual();
                case "integer" -> value.isIntegralNumber() || (value.isNumber() && value.asDouble() == Math.rint(value.asDouble()));
                case "number" -> value.isNumber();
                case "boolean" -> value.isBoolean();
                case "null" -> value.isNull();
                case "object" -> value.isObject();
                case "array" -> value.isArray();
                default -> false;
            };
        }

        private static String inferType(JsonNode s) {
            if (s.has("properties") || s.has("required") || s.has("additionalProperties")) return "object";
            if (s.has("items") || s.has("minItems") || s.has("maxItems")) return "array";
            if (s.has("maxLength") || s.has("minLength")) return "string";
            if (s.has("minimum") || s.has("maximum")) return "number";
            return "any";
        }

        private int intField(JsonNode s, String field, int absent, String path) {
            JsonNode v = s.get(field);
            if (v == null) return absent;
            if (!v.canConvertToInt() || v.asInt() < 0) throw bad(path, field + " must be a non-negative integer");
            return v.asInt();
        }

        private void compileObject(JsonNode s, Node n, String path) throws IllegalArgumentException {
            n.kind = OBJECT;
            JsonNode props = s.get("properties");
            JsonNode additional = s.get("additionalProperties");
            if (props == null) {
                if (additional != null && additional.isBoolean() && !additional.booleanValue()) {
                    props = json.createObjectNode(); // only {}
                } else {
                    n.freeMap = true;
                    n.valueNode = additional == null || additional.isBoolean() ? any() : compile(additional, path + "/additionalProperties");
                    if (s.has("required") && !s.get("required").isEmpty()) throw bad(path, "required needs properties");
                    return;
                }
            }
            if (!props.isObject()) throw bad(path, "properties must be an object");
            if (props.size() > 64) throw bad(path, "more than 64 properties");
            List<String> names = new ArrayList<>();
            props.fieldNames().forEachRemaining(names::add);
            n.propNode = new int[names.size()];
            n.keyLen = new int[names.size()];
            n.keys = new LitTrie();
            for (int i = 0; i < names.size(); i++) {
                byte[] key;
                try {
                    key = json.writeValueAsBytes(names.get(i));
                } catch (Exception e) {
                    throw bad(path, "bad property name");
                }
                n.keys.add(key, i);
                n.keyLen[i] = key.length;
                n.propNode[i] = compile(props.get(names.get(i)), path + "/properties/" + names.get(i));
            }
            JsonNode req = s.get("required");
            if (req != null) {
                for (JsonNode r : req) {
                    int i = names.indexOf(r.asText());
                    if (i < 0) throw bad(path, "required property '" + r.asText() + "' is not in properties");
                    n.required |= 1L << i;
                }
            }
        }

        private void compileNumber(JsonNode s, Node n, boolean integer, String path) {
            n.kind = NUMBER;
            n.integer = integer;
            JsonNode v;
            if ((v = s.get("minimum")) != null) n.min = num(v, path);
            if ((v = s.get("maximum")) != null) n.max = num(v, path);
            if ((v = s.get("exclusiveMinimum")) != null) {
                if (v.isBoolean()) throw bad(path, "boolean exclusiveMinimum (draft 4) is not supported");
                double x = num(v, path);
                if (x >= n.min) {
                    n.min = x;
                    n.exMin = true;
                }
            }
            if ((v = s.get("exclusiveMaximum")) != null) {
                if (v.isBoolean()) throw bad(path, "boolean exclusiveMaximum (draft 4) is not supported");
                double x = num(v, path);
                if (x <= n.max) {
                    n.max = x;
                    n.exMax = true;
                }
            }
            double lo = n.exMin ? Math.floor(n.min) + 1 : Math.ceil(n.min);
            double hi = n.exMax ? Math.ceil(n.max) - 1 : Math.floor(n.max);
            n.minI = (long) Math.max(lo, -MAX_INT);
            n.maxI = (long) Math.min(hi, MAX_INT);
            if (n.minI > n.maxI) throw bad(path, "no integer of at most 15 digits lies in [minimum, maximum] (fractions alone are not generated)");
        }

        private double num(JsonNode v, String path) {
            if (!v.isNumber()) throw bad(path, "bounds must be numbers");
            return v.asDouble();
        }

        void finish(int root) {
            for (Node n : nodes) {
                if (n.keys != null) n.keys.freeze();
                if (n.lits != null) n.lits.freeze();
            }
            // fixpoint of the shortest serialisations (recursive schemas converge; unsatisfiable ones stay INF)
            boolean changed = true;
            for (int round = 0; changed && round < nodes.size() + 2; round++) {
                changed = false;
                for (Node n : nodes) {
                    int m = minLenOf(n);
                    if (m < n.minLen) {
                        n.minLen = m;
                        changed = true;
                    }
                }
            }
            if (nodes.get(root).minLen >= INF) throw bad("#", "the schema admits no finite value");
            // first bytes (fixpoint through anyOf / $ref aliases)
            changed = true;
            while (changed) {
                changed = false;
                for (Node n : nodes) {
                    boolean[] f = new boolean[256];
                    switch (n.kind) {
                        case OBJECT -> f['{'] = true;
                        case ARRAY -> f['['] = true;
                        case STRING -> f['"'] = true;
                        case NUMBER -> {
                            if (n.minI < 0) f['-'] = true;
                            for (int d = 0; d <= 9; d++) f['0' + d] = true;
                        }
                        case LITERALS -> {
                            for (byte b : n.lits.frozen.labels()[0]) f[b & 0xFF] = true;
                        }
                        case ANYOF -> {
                            for (int b : n.branches) for (int i = 0; i < 256; i++) f[i] |= nodes.get(b).first[i];
                        }
                        default -> {
                        }
                    }
                    for (int i = 0; i < 256; i++) {
                        if (f[i] && !n.first[i]) {
                            n.first[i] = true;
                            changed = true;
                        }
                    }
                }
            }
            for (int id = 0; id < nodes.size(); id++) {
                Node n = nodes.get(id);
                if (n.kind != ANYOF || n.branches.length < 2) continue;
                for (int i = 0; i < n.branches.length; i++) {
                    for (int j = i + 1; j < n.branches.length; j++) {
                        for (int b = 0; b < 256; b++) {
                            if (nodes.get(n.branches[i]).first[b] && nodes.get(n.branches[j]).first[b]) {
                                throw bad("anyOf", "branches " + i + " and " + j + " can both start with '" + (char) b
                                        + "'; only alternatives of different JSON types (e.g. string | null) are supported");
                            }
                        }
                    }
                }
            }
        }

        private int minLenOf(Node n) {
            return switch (n.kind) {
                case OBJECT -> {
                    if (n.freeMap) yield 2;
                    long sum = 2;
                    int count = 0;
                    for (int i = 0; i < n.propNode.length; i++) {
                        if ((n.required & (1L << i)) == 0) continue;
                        sum += n.keyLen[i] + 1 + nodes.get(n.propNode[i]).minLen;
                        count++;
                    }
                    yield (int) Math.min(INF, sum + Math.max(0, count - 1));
                }
                case ARRAY -> (int) Math.min(INF, 2 + (long) n.minItems * nodes.get(n.itemNode).minLen + Math.max(0, n.minItems - 1));
                case STRING -> (int) Math.min(INF, 2L + n.minLength);
                case NUMBER -> Math.min(minInt(n, false, 0, 0), 1 + minInt(n, true, 0, 0));
                case LITERALS -> n.lits.rest[0];
                case ANYOF -> {
                    int m = INF;
                    for (int b : n.branches) m = Math.min(m, nodes.get(b).minLen);
                    yield m;
                }
                default -> INF;
            };
        }
    }

    // -------------------------------------------------------------------------------------------------------
    // numbers

    static final long[] POW10 = new long[19];

    static {
        POW10[0] = 1;
        for (int i = 1; i < POW10.length; i++) POW10[i] = POW10[i - 1] * 10;
    }

    /**
     * Fewest more digits that complete an in-range integer part, given the sign and the {@code d} digits so far
     * (value {@code p}); INF when none can.
     */
    static int minInt(Node n, boolean negative, long p, int d) {
        int from = d == 0 ? 1 : 0;
        int to = (d == 1 && p == 0) ? 0 : 15 - d;
        for (int j = from; j <= to; j++) {
            long lo, hi;
            if (d == 0) {
                lo = j == 1 ? 0 : POW10[j - 1];
                hi = POW10[j] - 1;
            } else {
                lo = p * POW10[j];
                hi = lo + POW10[j] - 1;
            }
            long sLo = negative ? -hi : lo, sHi = negative ? -lo : hi;
            if (sLo <= n.maxI && sHi >= n.minI) return j;
        }
        return INF;
    }

    static boolean intInRange(Node n, boolean negative, long p) {
        long v = negative ? -p : p;
        return v >= n.minI && v <= n.maxI;
    }

    /** Whether every value with integer part p (and any fraction) is in range, so a fraction may follow. */
    static boolean fractionOk(Node n, boolean negative, long p) {
        if (n.integer) return false;
        double a = negative ? -(p + 1.0) : p, b = negative ? -(double) p : p + 1.0;
        boolean loOk = n.exMin ? a > n.min : a >= n.min;
        boolean hiOk = n.exMax ? b < n.max : b <= n.max;
        return loOk && hiOk;
    }

    // -------------------------------------------------------------------------------------------------------
    // the automaton

    /** A fresh parser state (the root frame, before the value). */
    int[] initialState() {
        int[] s = new int[HEADER + FRAME * maxFrames];
        s[0] = 1;
        s[HEADER] = ROOT;
        return s;
    }

    int stateLength(int[] s) {
        return HEADER + FRAME * s[0];
    }

    private static boolean isWs(int b) {
        return b == ' ' || b == '\n' || b == '\t' || b == '\r';
    }

    private boolean whitespace(int[] s) {
        if (s[1] >= maxWhitespace) return false;
        s[1]++;
        return true;
    }

    /** Advances the state by one byte; false (state then undefined) when the byte is not allowed. */
    boolean step(int[] s, int b) {
        if (!isWs(b)) s[1] = 0;
        while (true) {
            int f = HEADER + FRAME * (s[0] - 1);
            int nodeId = s[f];
            int st = s[f + 1];
            if (nodeId == ROOT) {
                if (st != 0) return false;
                if (isWs(b)) return whitespace(s);
                s[f + 1] = 1;
                return push(s, root, b);
            }
            Node n = nodes[nodeId];
            switch (n.kind) {
                case OBJECT -> {
                    return objectStep(s, f, n, st, b);
                }
                case ARRAY -> {
                    return arrayStep(s, f, n, st, b);
                }
                case STRING -> {
                    return stringStep(s, f, n, b);
                }
                case NUMBER -> {
                    int r = numberStep(s, f, n, st, b);
                    if (r >= 0) return r == 1;
                    s[0]--; // complete: pop and give the byte to the parent
                }
                case LITERALS -> {
                    LitTrie.Frozen t = n.lits.frozen;
                    int node = s[f + 2];
                    int c = t.child(node, b);
                    if (c >= 0) {
                        s[f + 2] = c;
                        if (t.terminal()[c] >= 0 && t.labels()[c].length == 0) s[0]--;
                        return true;
                    }
                    if (t.terminal()[node] < 0) return false;
                    s[0]--;
                }
                default -> {
                    return false;
                }
            }
        }
    }

    private boolean push(int[] s, int nodeId, int b) {
        Node n = nodes[nodeId];
        while (n.kind == ANYOF) {
            int next = -1;
            for (int br : n.branches) {
                if (nodes[br].first[b]) {
                    next = br;
                    break;
                }
            }
            if (next < 0) return false;
            nodeId = next;
            n = nodes[nodeId];
        }
        if (!n.first[b]) return false;
        int sp = s[0];
        if (sp >= maxFrames || ((n.kind == OBJECT || n.kind == ARRAY) && sp >= maxFrames - 1)) return false;
        int f = HEADER + FRAME * sp;
        s[f] = nodeId;
        s[f + 1] = 0;
        s[f + 2] = 0;
        s[f + 3] = 0;
        s[f + 4] = 0;
        s[0] = sp + 1;
        s[1] = 0;
        return step(s, b);
    }

    private boolean objectStep(int[] s, int f, Node n, int st, int b) {
        long used = ((long) s[f + 3] << 32) | (s[f + 2] & 0xFFFFFFFFL);
        switch (st) {
            case 0 -> {
                if (b != '{') return false;
                s[f + 1] = 1;
                return true;
            }
            case 1, 6 -> {
                if (isWs(b)) return whitespace(s);
                if (b == '}' && st == 1 && (n.required & ~used) == 0) {
                    s[0]--;
                    return true;
                }
                if (b != '"') return false;
                s[1] = 0;
                if (n.freeMap) {
                    s[f + 1] = 3;
                    return push(s, keyStringNode(n), b);
                }
                LitTrie.Frozen k = n.keys.frozen;
                int c = k.child(0, b);
                if (c < 0 || (k.subMask()[c] & ~used) == 0) return false;
                s[f + 1] = 2;
                s[f + 4] = c;
                return true;
            }
            case 2 -> {
                LitTrie.Frozen k = n.keys.frozen;
                int c = k.child(s[f + 4], b);
                if (c < 0 || (k.subMask()[c] & ~used) == 0) return false;
                int p = k.terminal()[c];
                if (p >= 0) {
                    used |= 1L << p;
                    s[f + 2] = (int) used;
                    s[f + 3] = (int) (used >>> 32);
                    s[f + 1] = 3;
                    s[f + 4] = p;
                } else {
                    s[f + 4] = c;
                }
                return true;
            }
            case 3 -> {
                if (isWs(b)) return whitespace(s);
                if (b != ':') return false;
                s[1] = 0;
                s[f + 1] = 4;
                return true;
            }
            case 4 -> {
                if (isWs(b)) return whitespace(s);
                s[f + 1] = 5;
                return push(s, n.freeMap ? n.valueNode : n.propNode[s[f + 4]], b);
            }
            case 5 -> {
                if (isWs(b)) return whitespace(s);
                s[1] = 0;
                if (b == '}' && (n.required & ~used) == 0) {
                    s[0]--;
                    return true;
                }
                if (b == ',' && (n.freeMap || Long.bitCount(used) < n.propNode.length)) {
                    s[f + 1] = 6;
                    return true;
                }
                return false;
            }
            default -> {
                return false;
            }
        }
    }

    private int keyStringNode(Node n) {
        return keyStringNode;
    }

    private boolean arrayStep(int[] s, int f, Node n, int st, int b) {
        int count = s[f + 2];
        switch (st) {
            case 0 -> {
                if (b != '[') return false;
                s[f + 1] = 1;
                return true;
            }
            case 1, 3 -> {
                if (isWs(b)) return whitespace(s);
                if (st == 1 && b == ']') {
                    if (n.minItems > 0) return false;
                    s[0]--;
                    return true;
                }
                if (count >= n.maxItems) return false;
                s[f + 2] = count + 1;
                s[f + 1] = 2;
                return push(s, n.itemNode, b);
            }
            case 2 -> {
                if (isWs(b)) return whitespace(s);
                s[1] = 0;
                if (b == ']' && count >= n.minItems) {
                    s[0]--;
                    return true;
                }
                if (b == ',' && count < n.maxItems) {
                    s[f + 1] = 3;
                    return true;
                }
                return false;
            }
            default -> {
                return false;
            }
        }
    }

    private boolean stringStep(int[] s, int f, Node n, int b) {
        if (s[f + 1] == 0) {
            if (b != '"') return false;
            s[f + 1] = 1;
            return true;
        }
        int utf = s[f + 3];
        if (s[f + 4] == 1) { // after a backslash
            if (b == '"' || b == '\\' || b == '/' || b == 'b' || b == 'f' || b == 'n' || b == 'r' || b == 't') {
                s[f + 4] = 0;
                return true;
            }
            return false;
        }
        if (utf != 0) {
            int kind = utf >>> 4;
            int lo = 0x80, hi = 0xBF;
            switch (kind) {
                case 1 -> lo = 0xA0;
                case 2 -> hi = 0x9F;
                case 3 -> lo = 0x90;
                case 4 -> hi = 0x8F;
                default -> {
                }
            }
            if (b < lo || b > hi) return false;
            s[f + 3] = (utf & 0xF) - 1; // remaining continuation bytes; bounds apply to the first one only
            return true;
        }
        if (b == '"') {
            if (s[f + 2] < n.minLength) return false;
            s[0]--;
            return true;
        }
        if (b < 0x20) return false;
        if (s[f + 2] >= n.maxLength) return false;
        if (b == '\\') {
            s[f + 4] = 1;
        } else if (b >= 0x80) {
            if (b >= 0xC2 && b <= 0xDF) s[f + 3] = 1;
            else if (b >= 0xE0 && b <= 0xEF) s[f + 3] = 2 | (b == 0xE0 ? 1 << 4 : b == 0xED ? 2 << 4 : 0);
            else if (b >= 0xF0 && b <= 0xF4) s[f + 3] = 3 | (b == 0xF0 ? 3 << 4 : b == 0xF4 ? 4 << 4 : 0);
            else return false;
        }
        s[f + 2]++;
        return true;
    }

    /** 1 = accepted, 0 = rejected, -1 = the number is complete and the byte belongs to the parent. */
    private int numberStep(int[] s, int f, Node n, int st, int b) {
        boolean digit = b >= '0' && b <= '9';
        boolean negative = (s[f + 4] & 0x10000) != 0;
        long p = ((long) s[f + 3] << 32) | (s[f + 2] & 0xFFFFFFFFL);
        int d = s[f + 4] & 0xFFFF;
        switch (st) {
            case 0, 1 -> {
                if (st == 0 && b == '-') {
                    if (minInt(n, true, 0, 0) >= INF) return 0;
                    s[f + 4] = 0x10000;
                    s[f + 1] = 1;
                    return 1;
                }
                if (!digit) return 0;
                long v = b - '0';
                if (minInt(n, negative, v, 1) >= INF && !(v == 0 && fractionOk(n, negative, 0))) return 0;
                setInt(s, f, v, 1, negative);
                s[f + 1] = v == 0 ? 2 : 3;
                return 1;
            }
            case 2, 3 -> {
                if (digit && st == 3 && d < 15) {
                    long v = p * 10 + (b - '0');
                    if (minInt(n, negative, v, d + 1) >= INF && !fractionOk(n, negative, v)) return 0;
                    setInt(s, f, v, d + 1, negative);
                    return 1;
                }
                if (b == '.' && fractionOk(n, negative, p)) {
                    s[f + 1] = 4;
                    return 1;
                }
                if (digit) return 0;
                return intInRange(n, negative, p) ? -1 : 0;
            }
            case 4 -> {
                if (!digit) return 0;
                s[f + 1] = 5;
                return 1;
            }
            case 5 -> {
                return digit ? 1 : -1;
            }
            default -> {
                return 0;
            }
        }
    }

    private static void setInt(int[] s, int f, long v, int digits, boolean negative) {
        s[f + 2] = (int) v;
        s[f + 3] = (int) (v >>> 32);
        s[f + 4] = digits | (negative ? 0x10000 : 0);
    }

    /** Whether the value could end here (trailing open-ended numbers / literals closed by the end). */
    boolean canEnd(int[] s) {
        for (int i = s[0] - 1; i >= 1; i--) {
            int f = HEADER + FRAME * i;
            Node n = nodes[s[f]];
            int st = s[f + 1];
            if (n.kind == NUMBER) {
                long p = ((long) s[f + 3] << 32) | (s[f + 2] & 0xFFFFFFFFL);
                boolean negative = (s[f + 4] & 0x10000) != 0;
                boolean ok = st == 5 || ((st == 2 || st == 3) && intInRange(n, negative, p));
                if (!ok) return false;
            } else if (n.kind == LITERALS) {
                if (n.lits.frozen.terminal()[s[f + 2]] < 0) return false;
            } else {
                return false;
            }
        }
        return s[HEADER + 1] == 1;
    }

    /**
     * When the top frame is inside a string, between characters (no escape or UTF-8 sequence open), how many more
     * characters it may take (≥ 1); else 0.
     */
    int plainStringRoom(int[] s) {
        int f = HEADER + FRAME * (s[0] - 1);
        if (s[f] == ROOT) return 0;
        Node n = nodes[s[f]];
        if (n.kind != STRING || s[f + 1] != 1 || s[f + 3] != 0 || s[f + 4] != 0) return 0;
        return n.maxLength == Integer.MAX_VALUE ? Integer.MAX_VALUE : Math.max(0, n.maxLength - s[f + 2]);
    }

    int stringCount(int[] s) {
        return s[HEADER + FRAME * (s[0] - 1) + 2];
    }

    void setStringCount(int[] s, int count) {
        s[HEADER + FRAME * (s[0] - 1) + 2] = count;
    }

    int stringMinLength(int[] s) {
        return nodes[s[HEADER + FRAME * (s[0] - 1)]].minLength;
    }

    /** Whether the value is closed and nothing may follow it. */
    boolean isTerminated(int[] s) {
        return s[0] == 1 && s[HEADER + 1] == 1;
    }

    /** The fewest bytes that complete the value from this state. */
    int minClose(int[] s) {
        long total = 0;
        for (int i = 0; i < s[0]; i++) {
            total += rest(s, HEADER + FRAME * i);
            if (total >= INF) return INF;
        }
        return (int) total;
    }

    private int rest(int[] s, int f) {
        int nodeId = s[f];
        int st = s[f + 1];
        if (nodeId == ROOT) return st == 0 ? nodes[root].minLen : 0;
        Node n = nodes[nodeId];
        switch (n.kind) {
            case OBJECT -> {
                if (n.freeMap) {
                    int v = nodes[n.valueNode].minLen;
                    return switch (st) {
                        case 1, 5 -> 1;
                        case 3 -> 1 + v + 1;
                        case 4 -> v + 1;
                        case 6 -> 2 + 1 + v + 1;
                        default -> INF;
                    };
                }
                long used = ((long) s[f + 3] << 32) | (s[f + 2] & 0xFFFFFFFFL);
                switch (st) {
                    case 1 -> {
                        int cnt = Long.bitCount(n.required & ~used);
                        return req(n, used) + Math.max(0, cnt - 1) + 1;
                    }
                    case 2 -> {
                        LitTrie k = n.keys;
                        int node = s[f + 4];
                        long cands = k.frozen.subMask()[node] & ~used;
                        long best = INF;
                        int depth = k.depthOf[node];
                        for (long m = cands; m != 0; m &= m - 1) {
                            int p = Long.numberOfTrailingZeros(m);
                            long c = (n.keyLen[p] - depth) + 1L + nodes[n.propNode[p]].minLen + afterValue(n, used | (1L << p));
                            best = Math.min(best, c);
                        }
                        return (int) Math.min(best, INF);
                    }
                    case 3 -> {
                        return (int) Math.min(INF, 1L + nodes[n.propNode[s[f + 4]]].minLen + afterValue(n, used));
                    }
                    case 4 -> {
                        return (int) Math.min(INF, (long) nodes[n.propNode[s[f + 4]]].minLen + afterValue(n, used));
                    }
                    case 5 -> {
                        return (int) Math.min(INF, afterValue(n, used));
                    }
                    case 6 -> {
                        int cnt = Long.bitCount(n.required & ~used);
                        if (cnt > 0) return req(n, used) + (cnt - 1) + 1;
                        long best = INF;
                        for (int p = 0; p < n.propNode.length; p++) {
                            if ((used & (1L << p)) != 0) continue;
                            best = Math.min(best, n.keyLen[p] + 1L + nodes[n.propNode[p]].minLen + 1);
                        }
                        return (int) Math.min(best, INF);
                    }
                    default -> {
                        return INF;
                    }
                }
            }
            case ARRAY -> {
                long ml = nodes[n.itemNode].minLen;
                int count = s[f + 2];
                long r = switch (st) {
                    case 1 -> n.minItems > 0 ? n.minItems * ml + (n.minItems - 1) + 1 : 1;
                    case 2 -> Math.max(0, n.minItems - count) * (1 + ml) + 1;
                    case 3 -> {
                        long m = Math.max(1, n.minItems - count);
                        yield m * ml + (m - 1) + 1;
                    }
                    default -> INF;
                };
                return (int) Math.min(r, INF);
            }
            case STRING -> {
                int more = Math.max(0, n.minLength - s[f + 2]);
                if (s[f + 4] == 1) return 1 + more + 1;
                return (s[f + 3] & 0xF) + more + 1;
            }
            case NUMBER -> {
                long p = ((long) s[f + 3] << 32) | (s[f + 2] & 0xFFFFFFFFL);
                boolean negative = (s[f + 4] & 0x10000) != 0;
                int d = s[f + 4] & 0xFFFF;
                return switch (st) {
                    case 1 -> minInt(n, true, 0, 0);
                    case 2, 3 -> Math.min(minInt(n, negative, p, d), fractionOk(n, negative, p) ? 2 : INF);
                    case 4 -> 1;
                    case 5 -> 0;
                    default -> INF;
                };
            }
            case LITERALS -> {
                return n.lits.rest[s[f + 2]];
            }
            default -> {
                return INF;
            }
        }
    }

    /** Bytes of the still-missing required properties, each written as {@code "key":value}. */
    private int req(Node n, long used) {
        long sum = 0;
        for (long m = n.required & ~used; m != 0; m &= m - 1) {
            int p = Long.numberOfTrailingZeros(m);
            sum += n.keyLen[p] + 1 + nodes[n.propNode[p]].minLen;
        }
        return (int) Math.min(sum, INF);
    }

    /** After a value: ",key:value" for each missing required property, then "}". */
    private long afterValue(Node n, long used) {
        int cnt = Long.bitCount(n.required & ~used);
        return (long) req(n, used) + cnt + 1;
    }
}
