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
            tokens.add(t);
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
        for (int seed = 0; seed < 20; seed++) {
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
}
