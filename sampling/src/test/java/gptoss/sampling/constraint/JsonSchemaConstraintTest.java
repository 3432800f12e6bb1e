package gptoss.sampling.constraint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.sampling.LogitSampler;
import gptoss.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class JsonSchemaConstraintTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode resource(String name) throws Exception {
        try (InputStream in = JsonSchemaConstraintTest.class.getResourceAsStream("/" + name)) {
            return JSON.readTree(in);
        }
    }

    static JsonNode schema(String json) throws Exception {
        return JSON.readTree(json);
    }

    private static float[] pool;

    /** Gaussian logits (σ = 3) to copy from at a random offset each step: a cheap stand-in for a random model. */
    static synchronized float[] pool() {
        if (pool == null) {
            Random r = new Random(1);
            pool = new float[3 * TokenVocabulary.o200k().size()];
            for (int i = 0; i < pool.length; i++) pool[i] = (float) (r.nextGaussian() * 3);
        }
        return pool;
    }

    /** Generates with random logits (a stand-in for a random model) under the constraint; returns the text. */
    static String generate(JsonSchemaConstraint c, long seed, int budget) {
        TokenVocabulary v = TokenVocabulary.o200k();
        LogitSampler sampler = SamplingParams.defaults().withSeed(seed).newSampler(v.size(), c);
        Random logitsRandom = new Random(seed * 31 + 7);
        float[] logits = new float[v.size()];
        float[] pool = pool();
        List<Integer> tokens = new ArrayList<>();
        for (int step = 0; step < budget && !c.isTerminated(); step++) {
            System.arraycopy(pool, logitsRandom.nextInt(pool.length - logits.length), logits, 0, logits.length);
            c.setRemainingTokens(budget - step);
            int t = sampler.sample(logits, 0, logits.length);
            sampler.accept(t);
            if (!v.isSpecial(t)) tokens.add(t); // an end token ends an open value such as a top-level number
        }
        assertTrue(c.isComplete(), "complete within the budget");
        return HarmonyTokenizer.instance().decode(tokens.stream().mapToInt(Integer::intValue).toArray());
    }

    static void assertValid(JsonNode schema, String text) throws Exception {
        JsonNode doc;
        try {
            doc = JSON.readTree(text);
        } catch (Exception e) {
            fail("not JSON: " + text + " (" + e.getMessage() + ")");
            return;
        }
        JsonSchema validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schema);
        Set<ValidationMessage> errors = validator.validate(doc);
        assertTrue(errors.isEmpty(), text + " → " + errors);
    }

    @Test
    void randomGenerationsAreValidForANestedSchema() throws Exception {
        JsonNode schema = resource("person.schema.json");
        JsonGrammar grammar = JsonGrammar.compile(schema);
        for (int seed = 0; seed < 12; seed++) {
            String text = generate(JsonSchemaConstraint.of(grammar, TokenVocabulary.o200k()), seed, 400);
            assertValid(schema, text);
        }
    }

    @Test
    void aTightBudgetStillClosesTheValue() throws Exception {
        JsonNode schema = resource("person.schema.json");
        JsonGrammar grammar = JsonGrammar.compile(schema);
        int shortest = grammar.nodes[grammar.root].minLen;
        for (int seed = 0; seed < 10; seed++) {
            String text = generate(JsonSchemaConstraint.of(grammar, TokenVocabulary.o200k()), 100 + seed, shortest + seed);
            assertValid(schema, text);
        }
    }

    @Test
    void anyJsonIsValidJson() throws Exception {
        for (int seed = 0; seed < 10; seed++) {
            String text = generate(JsonSchemaConstraint.anyJson(TokenVocabulary.o200k()), seed, 60);
            JSON.readTree(text); // throws if not JSON
        }
    }

    static final String[] SCHEMAS = {
            "{\"type\":\"string\",\"minLength\":3,\"maxLength\":5}",
            "{\"type\":\"integer\",\"minimum\":-50,\"maximum\":-7}",
            "{\"type\":\"integer\",\"exclusiveMinimum\":100,\"exclusiveMaximum\":1000}",
            "{\"type\":\"number\",\"minimum\":-2.5,\"maximum\":3.5}",
            "{\"type\":\"boolean\"}",
            "{\"type\":\"null\"}",
            "{\"enum\":[\"red\",\"green\",42,null,{\"a\":[1,2]}]}",
            "{\"const\":\"fixed \\\"quoted\\\"\"}",
            "{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":3},\"minItems\":2,\"maxItems\":4}",
            "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":2},\"maxItems\":0}",
            "{\"anyOf\":[{\"type\":\"string\",\"maxLength\":4},{\"type\":\"integer\",\"minimum\":5,\"maximum\":6},{\"type\":\"null\"}]}",
            "{\"type\":[\"boolean\",\"array\"],\"items\":{\"type\":\"null\"},\"maxItems\":2}",
            "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\",\"maxLength\":3}},\"required\":[\"b\"],\"additionalProperties\":false}",
            "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}}",
            "{\"type\":\"object\",\"additionalProperties\":false}",
            "{\"$ref\":\"#/$defs/node\",\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},\"next\":{\"anyOf\":[{\"$ref\":\"#/$defs/node\"},{\"type\":\"null\"}]}},\"required\":[\"v\",\"next\"],\"additionalProperties\":false}}}",
            "{\"type\":\"object\",\"properties\":{\"caf\u00e9\":{\"type\":\"string\",\"maxLength\":1},\"x\":{\"type\":\"object\",\"properties\":{}}},\"required\":[\"caf\u00e9\",\"x\"]}",
            "true",
    };

    @Test
    void eachKeywordRandomGenerationsValidate() throws Exception {
        for (String s : SCHEMAS) {
            JsonNode schema = schema(s);
            JsonGrammar g = JsonGrammar.compile(schema);
            for (int seed = 0; seed < 4; seed++) {
                String text = generate(JsonSchemaConstraint.of(g, TokenVocabulary.o200k()), seed, 60);
                assertValid(schema, text);
            }
        }
    }

    /** Feeds text as single-byte tokens; whether the constraint takes all of it. */
    static boolean accepts(JsonSchemaConstraint c, String text) {
        TokenVocabulary v = TokenVocabulary.o200k();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int t = v.singleByteToken[b & 0xFF];
            long[] allowed = c.allowedTokens();
            boolean ok = (allowed[t >>> 6] & (1L << t)) != 0;
            if (!ok) return false;
            c.accept(t);
        }
        return true;
    }

    @Test
    void theMaskAgreesWithTheGrammarOnHandPickedTexts() throws Exception {
        JsonGrammar g = JsonGrammar.compile(resource("person.schema.json"));
        TokenVocabulary v = TokenVocabulary.o200k();
        String good = "{\"name\": \"Ann\", \"age\": 30, \"role\": \"admin\", \"tags\": [\"x\"], "
                + "\"address\": {\"city\": \"Oslo\", \"geo\": {\"lat\": 59.9, \"lon\": -10.75}}, \"note\": null}";
        JsonSchemaConstraint c = JsonSchemaConstraint.of(g, v);
        assertTrue(accepts(c, good));
        assertTrue(c.isComplete() && c.isTerminated());
        String[] bad = {
                "{\"name\": \"Ann\",}",                       // trailing comma
                "{\"nope\": 1}",                                // undeclared property
                "{\"age\": 121",                                // above maximum
                "{\"age\": 3.5",                                // not an integer
                "{\"role\": \"root\"",                        // not in the enum
                "{\"name\": \"0123456789abc\"",               // longer than maxLength 12
                "{\"tags\": []",                                // minItems 1
                "{\"tags\": [\"a\", \"b\", \"c\", \"d\"",     // maxItems 3
                "{\"name\": \"a\", \"name\"",                  // repeated key
                "{\"name\": \"a\u0001",                        // raw control character
                "{\"name\": \"\\x\"",                          // bad escape
                "{         ",                                        // more than 8 whitespace bytes in a row
                "{\"name\": \"a\", \"age\": 1, \"role\": \"user\", \"tags\": [\"t\"]}", // address missing
        };
        for (String b : bad) assertFalse(accepts(JsonSchemaConstraint.of(g, v), b), b);
        // invalid UTF-8 (a lone continuation byte) inside a string
        JsonSchemaConstraint u = JsonSchemaConstraint.of(g, v);
        assertTrue(accepts(u, "{\"name\": \""));
        int cont = v.singleByteToken[0x80];
        assertEquals(0, u.allowedTokens()[cont >>> 6] & (1L << cont));
    }

    @Test
    void unsupportedSchemasAreRejectedNamingTheProblem() {
        String[][] cases = {
                {"{\"type\":\"string\",\"pattern\":\"a+\"}", "'pattern' is not supported"},
                {"{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"object\",\"properties\":{\"a\":{}}}]}", "can both start with '{'"},
                {"{\"$ref\":\"http://x/y.json\"}", "only local $ref"},
                {"{\"$ref\":\"#/$defs/missing\"}", "points nowhere"},
                {"{\"type\":\"integer\",\"minimum\":0.2,\"maximum\":0.8}", "no integer"},
                {"{\"type\":\"object\",\"properties\":{\"a\":{}},\"required\":[\"b\"]}", "'b' is not in properties"},
                {"{\"type\":\"wat\"}", "unknown type"},
                {"false", "matches nothing"},
                {"{\"$ref\":\"#\"}", "no finite value"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonGrammar.compile(schema(c[0])), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " → " + e.getMessage());
        }
    }

    @Test
    void tokensOutsideTheGrammarAreRefusedByAccept() throws Exception {
        JsonSchemaConstraint c = JsonSchemaConstraint.compile(schema("{\"type\":\"boolean\"}"), TokenVocabulary.o200k());
        int[] ids = HarmonyTokenizer.instance().encode("null");
        assertThrows(IllegalArgumentException.class, () -> c.accept(ids[0]));
    }
}
