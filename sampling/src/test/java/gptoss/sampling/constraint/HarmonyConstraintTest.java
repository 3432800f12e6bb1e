package gptoss.sampling.constraint;

import com.fasterxml.jackson.databind.JsonNode;
import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.model.tokenizer.SpecialTokens;
import gptoss.sampling.LogitSampler;
import gptoss.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tool calls after {@code <|constrain|>json<|message|>} and final answers are constrained; the rest is free. */
class HarmonyConstraintTest {
    static final HarmonyTokenizer TOK = HarmonyTokenizer.instance();

    /** Feeds a header (as if the model wrote it), then samples random logits until an end token. */
    static String completeMessage(HarmonyConstraint c, LogitSampler sampler, String header, List<Integer> endSeen, long seed) {
        for (int t : TOK.encodeWithSpecialTokens(header)) sampler.accept(t);
        assertTrue(c.inJson(), "JSON mode after " + header);
        Random r = new Random(seed);
        float[] pool = JsonSchemaConstraintTest.pool();
        float[] logits = new float[TOK.vocabSize()];
        List<Integer> out = new ArrayList<>();
        for (int step = 0; step < 200; step++) {
            System.arraycopy(pool, r.nextInt(pool.length - logits.length), logits, 0, logits.length);
            c.setRemainingTokens(Math.max(1, 80 - step));
            int t = sampler.sample(logits, 0, logits.length);
            sampler.accept(t);
            if (TOK.isSpecial(t)) {
                endSeen.add(t);
                break;
            }
            out.add(t);
        }
        return TOK.decode(out.stream().mapToInt(Integer::intValue).toArray());
    }

    @Test
    void toolCallArgumentsFollowTheRecipientsSchemaAndFinalAnswersTheResponseSchema() throws Exception {
        JsonNode weather = JsonSchemaConstraintTest.schema("""
                {"type":"object","properties":{"city":{"type":"string","maxLength":10},"unit":{"enum":["c","f"]}},
                 "required":["city","unit"],"additionalProperties":false}""");
        JsonNode answer = JsonSchemaConstraintTest.schema("""
                {"type":"object","properties":{"ok":{"type":"boolean"},"n":{"type":"integer","minimum":0,"maximum":9}},
                 "required":["ok","n"]}""");
        Map<String, JsonGrammar> tools = Map.of("functions.get_weather", JsonGrammar.compile(weather));
        for (int seed = 0; seed < 5; seed++) {
            HarmonyConstraint c = new HarmonyConstraint(TokenVocabulary.o200k(), tools::get, JsonGrammar.compile(answer));
            LogitSampler sampler = SamplingParams.defaults().withSeed(seed).newSampler(TOK.vocabSize(), c);
            List<Integer> ends = new ArrayList<>();
            // analysis is free: nothing masked
            for (int t : TOK.encodeWithSpecialTokens("<|channel|>analysis<|message|>")) sampler.accept(t);
            assertFalse(c.inJson());
            float[] row = new float[TOK.vocabSize()];
            Arrays.fill(row, 1f);
            c.mask(row, 0, row.length);
            for (float v : row) assertEquals(1f, v);
            for (int t : TOK.encodeWithSpecialTokens("Let me call the tool.<|end|><|start|>assistant")) sampler.accept(t);

            String args = completeMessage(c, sampler, "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>", ends, seed);
            JsonSchemaConstraintTest.assertValid(weather, args);
            assertTrue(List.of(SpecialTokens.CALL, SpecialTokens.END, SpecialTokens.RETURN).contains(ends.getLast()));
            assertFalse(c.inJson());

            for (int t : TOK.encodeWithSpecialTokens("<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{\"t\": 20}<|end|><|start|>assistant")) {
                sampler.accept(t);
            }
            String finalText = completeMessage(c, sampler, "<|channel|>final<|message|>", ends, seed + 100);
            JsonSchemaConstraintTest.assertValid(answer, finalText);
            assertTrue(List.of(SpecialTokens.RETURN, SpecialTokens.END).contains(ends.getLast()));
        }
    }

    @Test
    void headerParsing() {
        assertEquals("final", HarmonyConstraint.channel("<|channel|>final"));
        assertEquals("commentary", HarmonyConstraint.channel("<|channel|>commentary to=functions.x <|constrain|>json"));
        assertEquals("functions.x", HarmonyConstraint.recipient("<|channel|>commentary to=functions.x <|constrain|>json"));
        assertEquals("functions.y", HarmonyConstraint.recipient(" to=functions.y<|channel|>commentary"));
    }

    @Test
    void unknownToolsGetAnyJson() throws Exception {
        HarmonyConstraint c = new HarmonyConstraint(TokenVocabulary.o200k(), r -> null, null);
        LogitSampler sampler = SamplingParams.defaults().withSeed(3).newSampler(TOK.vocabSize(), c);
        List<Integer> ends = new ArrayList<>();
        String text = completeMessage(c, sampler, "<|channel|>commentary to=functions.other <|constrain|>json<|message|>", ends, 3);
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(text); // throws unless JSON
        assertTrue(List.of(SpecialTokens.CALL, SpecialTokens.END, SpecialTokens.RETURN).contains(ends.getLast()));
    }
}
