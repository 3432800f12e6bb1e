package gptoss.sampling;

import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.model.tokenizer.SpecialTokens;
import gptoss.sampling.constraint.TokenVocabulary;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StopRulesTest {
    @Test
    void stopTokenEndsAndIsReported() {
        StopRules.Matcher m = StopRules.of(10, Set.of(SpecialTokens.RETURN)).newMatcher(null);
        assertNull(m.accept(5));
        assertEquals(StopReason.STOP_TOKEN, m.accept(SpecialTokens.RETURN));
    }

    @Test
    void maxTokens() {
        StopRules.Matcher m = StopRules.of(3, Set.of()).newMatcher(null);
        assertNull(m.accept(1));
        assertNull(m.accept(2));
        assertEquals(StopReason.MAX_TOKENS, m.accept(3));
    }

    @Test
    void stopStringSpanningTokensIsFoundWhereItStarts() {
        HarmonyTokenizer tok = HarmonyTokenizer.instance();
        String text = "The answer is 42. END OF STORY and more";
        int[] ids = tok.encode(text);
        StopRules rules = StopRules.of(100, Set.of()).withStopStrings(List.of("OF STO", "zzz"));
        StopRules.Matcher m = rules.newMatcher(TokenVocabulary.o200k());
        StopReason reason = null;
        int used = 0;
        for (int id : ids) {
            used++;
            if ((reason = m.accept(id)) != null) break;
        }
        assertEquals(StopReason.STOP_STRING, reason);
        assertEquals("OF STO", m.matchedStopString());
        assertEquals(text.indexOf("OF STO"), m.stopStringByteOffset());
        // it stopped at the token that completed the string, not later
        String upTo = tok.decode(java.util.Arrays.copyOf(ids, used));
        assertEquals(true, upTo.contains("OF STO") && !tok.decode(java.util.Arrays.copyOf(ids, used - 1)).contains("OF STO"));
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length > 0, true);
    }

    @Test
    void stopStringsOneByteAtATime() {
        // a vocabulary of single bytes: the stop string necessarily spans many tokens
        byte[][] bytes = new byte[257][];
        for (int b = 0; b < 256; b++) bytes[b] = new byte[]{(byte) b};
        TokenVocabulary v = new TokenVocabulary(bytes);
        StopRules.Matcher m = StopRules.of(100, Set.of()).withStopStrings(List.of("\n\nUser:")).newMatcher(v);
        String out = "Hi.\n\nUser: more";
        StopReason r = null;
        int i = 0;
        for (; i < out.length() && r == null; i++) r = m.accept(out.charAt(i));
        assertEquals(StopReason.STOP_STRING, r);
        assertEquals(out.indexOf("\n\nUser:") + "\n\nUser:".length(), i);
        assertEquals(3, m.stopStringByteOffset());
    }

    @Test
    void badRules() {
        assertThrows(IllegalArgumentException.class, () -> StopRules.of(-1, Set.of()));
        assertThrows(IllegalArgumentException.class, () -> StopRules.of(1, Set.of()).withStopStrings(List.of("")));
    }
}
