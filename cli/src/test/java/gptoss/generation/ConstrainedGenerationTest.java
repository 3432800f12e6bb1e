package gptoss.generation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import gptoss.api.GptOss;
import gptoss.api.GptOssOptions;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.TestModels;
import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.sampling.LogitSampler;
import gptoss.sampling.SamplingParams;
import gptoss.sampling.StopReason;
import gptoss.sampling.StopRules;
import gptoss.sampling.constraint.JsonGrammar;
import gptoss.sampling.constraint.JsonSchemaConstraint;
import gptoss.sampling.constraint.TokenVocabulary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Structured output on a model with random weights and the real o200k vocabulary: 100 generations at
 * temperature 1 under a schema with nested objects, arrays, enums and required fields all parse and validate,
 * checked by the networknt JSON-schema validator (not by our code).
 */
class ConstrainedGenerationTest {
    @TempDir
    static Path dir;
    static GptOss model;

    @BeforeAll
    static void open() {
        Path p = TestModels.write(dir.resolve("m"), TestModels.config(1, 32, 4, 1, 8, 2, 1, 32, 201088, 8), 5,
                SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        model = GptOss.open(p, GptOssOptions.defaults().withContext(512).withThreads(1).withQuiet(true));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static JsonNode schema() throws Exception {
        try (InputStream in = ConstrainedGenerationTest.class.getResourceAsStream("/record.schema.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @Test
    void hundredGenerationsAtTemperatureOneAllValidate() throws Exception {
        JsonNode schemaNode = schema();
        JsonSchema validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schemaNode);
        JsonGrammar grammar = JsonGrammar.compile(schemaNode);
        TokenVocabulary vocab = TokenVocabulary.o200k();
        int[] prompt = {200006, 1428, 200008};
        ObjectMapper json = new ObjectMapper();
        long tokens = 0;
        long start = System.nanoTime();
        for (int seed = 0; seed < 100; seed++) {
            LogitSampler sampler = SamplingParams.defaults().withSeed(seed).newSampler(201088, JsonSchemaConstraint.of(grammar, vocab));
            Generator.Result r = new Generator(model, sampler).generate(prompt, StopRules.of(60, Set.of()), vocab, t -> true);
            tokens += r.tokens().length;
            String text = HarmonyTokenizer.instance().decode(r.tokens());
            assertTrue(r.reason() == StopReason.CONSTRAINT_COMPLETE || r.reason() == StopReason.MAX_TOKENS, r.reason() + ": " + text);
            JsonNode doc;
            try {
                doc = json.readTree(text);
            } catch (Exception e) {
                fail("seed " + seed + ": not JSON: " + text);
                return;
            }
            Set<ValidationMessage> errors = validator.validate(doc);
            assertTrue(errors.isEmpty(), "seed " + seed + ": " + text + " → " + errors);
        }
        System.out.printf("100 constrained generations, %d tokens, %.1f ms/token%n", tokens, (System.nanoTime() - start) / 1e6 / tokens);
    }
}
