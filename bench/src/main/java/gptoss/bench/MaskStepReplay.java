package gptoss.bench;

import com.fasterxml.jackson.databind.*;
import gptoss.sampling.*;
import gptoss.sampling.constraint.*;
import java.util.*;
/**
 * The JSON-schema mask cost of every step of 64 recorded temperature-1 generations (as {@link SamplingBenchmark#mask}),
 * replayed 12 times; each step's minimum over the replays filters out the preemption a shared machine adds, so the
 * distribution shows what the steps themselves cost. Prints median, p90, p99, max and the slowest steps' prefixes.
 * {@code java -cp ... gptoss.bench.MaskStepReplay [schema.json]} (default: the bundled record.schema.json).
 */
public class MaskStepReplay {
    public static void main(String[] a) throws Exception {
        JsonNode schema = a.length > 0 ? new ObjectMapper().readTree(new java.io.File(a[0]))
                : new ObjectMapper().readTree(MaskStepReplay.class.getResourceAsStream("/record.schema.json"));
        TokenVocabulary vocab = TokenVocabulary.o200k();
        JsonGrammar g = JsonGrammar.compile(schema);
        int V = 201088;
        Random r = new Random(1);
        float[] pool = new float[3 * V];
        for (int i = 0; i < pool.length; i++) pool[i] = (float) (r.nextGaussian() * 3);
        List<int[]> runs = new ArrayList<>();
        float[] logits = new float[V];
        for (int k = 0; k < 64; k++) {
            JsonSchemaConstraint c = JsonSchemaConstraint.of(g, vocab);
            LogitSampler s = SamplingParams.defaults().withSeed(k).newSampler(V, c);
            List<Integer> t = new ArrayList<>();
            for (int step = 0; step < 70 && !c.isTerminated(); step++) {
                System.arraycopy(pool, r.nextInt(2 * V), logits, 0, V);
                c.setRemainingTokens(70 - step);
                int x = s.sample(logits, 0, V); s.accept(x); t.add(x);
            }
            runs.add(t.stream().mapToInt(Integer::intValue).toArray());
        }
        int total = runs.stream().mapToInt(x -> x.length).sum();
        long[] best = new long[total];
        Arrays.fill(best, Long.MAX_VALUE);
        JsonSchemaConstraint c = JsonSchemaConstraint.of(g, vocab);
        for (int rep = 0; rep < 12; rep++) {
            int idx = 0;
            for (int[] run : runs) {
                c.reset();
                for (int p = 0; p < run.length; p++) {
                    c.setRemainingTokens(70 - p);
                    long t0 = System.nanoTime();
                    c.mask(logits, 0, V);
                    long t1 = System.nanoTime();
                    c.accept(run[p]);
                    best[idx] = Math.min(best[idx], t1 - t0);
                    idx++;
                }
            }
        }
        long[] s = best.clone(); Arrays.sort(s);
        System.out.printf("steps %d, per-step minimum over 12 replays: median %.1f us, p90 %.1f, p99 %.1f, max %.1f us%n",
            total, s[total/2]/1e3, s[(int)(total*0.9)]/1e3, s[(int)(total*0.99)]/1e3, s[total-1]/1e3);
        // the slowest steps: what state
        Integer[] order = new Integer[total]; for (int i=0;i<total;i++) order[i]=i;
        Arrays.sort(order, (x,y)->Long.compare(best[y],best[x]));
        int idx=0; Map<Integer,String> where = new HashMap<>();
        for (int[] run : runs) { StringBuilder sb = new StringBuilder(); for (int p=0;p<run.length;p++){ where.put(idx++, sb.toString()); sb.append(new String(vocab.bytes(run[p])==null?new byte[0]:vocab.bytes(run[p]), java.nio.charset.StandardCharsets.UTF_8)); } }
        for (int i=0;i<5;i++) System.out.printf("%.1f us after: %s%n", best[order[i]]/1e3, where.get(order[i]).replace("\n","\\n"));
    }
}
