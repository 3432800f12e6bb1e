package gptoss.runtime.profile;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TokenCountsTest {

    @Test
    void agreesWithAHashMapThroughGrowthAndMerge() {
        Random r = new Random(11);
        TokenCounts a = new TokenCounts(), b = new TokenCounts();
        Map<Integer, Long> expected = new HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            int token = r.nextInt(201_088);
            (i % 3 == 0 ? b : a).add(token, 1);
            expected.merge(token, 1L, Long::sum);
        }
        a.addAll(b);
        assertEquals(expected.size(), a.size());
        for (var e : expected.entrySet()) assertEquals(e.getValue(), a.get(e.getKey()));
        assertEquals(0, a.get(201_088));
        var top = a.top(3);
        long max = expected.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        assertEquals(max, top.get(0).count());
        assertEquals(3, top.size());
    }
}
