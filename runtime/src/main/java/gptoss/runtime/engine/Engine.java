package gptoss.runtime.engine;

import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.KvCache;
import gptoss.runtime.backend.TokenBatch;
import gptoss.runtime.backend.WholeStep;
import gptoss.runtime.backend.WholeStep.StepTrace;
import gptoss.runtime.ops.TopKRouting;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The gpt-oss forward pass (spec §2) over a {@link Placement} of backends. The engine owns the residual
 * stream, embeds tokens, asks the placed backends for attention, router, experts and head, makes the routing
 * decision itself (top-k, then softmax over the k) and combines expert outputs in router order, so the result
 * is the same whatever the placement. Not thread-safe: one thread drives an engine.
 */
public final class Engine implements AutoCloseable {
    /**
     * Prompt tokens processed per forward chunk: bounds activation memory while reading weights once per chunk.
     * 512 rather than 128: each expert sees about chunk·k/E tokens (bench-m and 20b: 4 of 32, so 64 rather than 16),
     * and the packed CPU GEMM runs at about 1.5× the rate with 64 tokens as with 16 (the fp32 decode of each weight
     * panel is shared by four times as many tokens); activations for 512 rows of 20b take about 40 MB.
     */
    public static final int DEFAULT_PREFILL_CHUNK = 512;

    private final ModelConfig c;
    private final ModelWeights w;
    private final Placement placement;
    private final int maxContext;
    private final int prefillChunk;
    private final List<ForwardListener> listeners = new CopyOnWriteArrayList<>();
    private final TransferStats transfers;
    private int nextSequenceId;

    private float[] x = new float[0], normed = new float[0], routerLogits = new float[0];
    private float[] routeWeights = new float[0], expertOut = new float[0], expertRows = new float[0];
    private int[] routeExperts = new int[0], groupRows = new int[0], groupTokens = new int[0];
    private final int[] groupExperts, groupStart; // the experts of one runExpertsTogether call, their first rows
    private final float[] lastRow;
    // Rows of the current step, reused while the step size stays the same (so decoding allocates nothing).
    private int[] stepTokens = new int[0], stepPositions = new int[0];
    private Sequence[] stepSequences = new Sequence[0];
    private final List<Backend> attentionBackends;
    private final TokenBatch[] stepBatches;
    // The placement's only backend when it runs whole steps on its device (null: the engine orchestrates the parts).
    private final WholeStep wholeStep;

    public Engine(ModelConfig config, ModelWeights weights, Placement placement, int maxContext, int prefillChunk) {
        if (maxContext < 1 || maxContext > config.maxContext()) {
            throw new IllegalArgumentException("context " + maxContext + " must be in 1.." + config.maxContext());
        }
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be positive");
        this.c = config;
        this.w = weights;
        this.placement = placement;
        this.maxContext = maxContext;
        this.prefillChunk = prefillChunk;
        this.transfers = new TransferStats(placement, config.numLayers(), config.numExperts(), config.hiddenSize());
        this.lastRow = new float[config.hiddenSize()];
        this.groupExperts = new int[config.numExperts()];
        this.groupStart = new int[config.numExperts() + 1];
        this.attentionBackends = placement.attentionBackends();
        this.stepBatches = new TokenBatch[attentionBackends.size()];
        this.wholeStep = placement.backends().size() == 1 ? placement.head().wholeStep() : null;
    }

    public Engine(ModelConfig config, ModelWeights weights, Placement placement) {
        this(config, weights, placement, config.maxContext(), DEFAULT_PREFILL_CHUNK);
    }

    public ModelConfig config() {
        return c;
    }

    public Placement placement() {
        return placement;
    }

    /**
     * Whether every step runs whole on one device ({@link WholeStep}): the weights then live on that device and the
     * host never reads the checkpoint's pages again.
     */
    public boolean runsWholeSteps() {
        return wholeStep != null;
    }

    public int maxContext() {
        return maxContext;
    }

    /** Activation rows that crossed between backends so far (see {@link TransferStats}). */
    public TransferStats transfers() {
        return transfers;
    }

    public void addListener(ForwardListener listener) {
        listeners.add(listener);
    }

    public void removeListener(ForwardListener listener) {
        listeners.remove(listener);
    }

    public Sequence newSequence() {
        return new Sequence(this, nextSequenceId++, placement.attentionBackends(), maxContext);
    }

    /**
     * Appends {@code tokens} to {@code sequence} and returns logits: [T, V] for every token when
     * {@code allLogits}, otherwise [V] for the last one.
     */
    public float[] forward(Sequence sequence, int[] tokens, boolean allLogits) {
        float[] logits = new float[allLogits ? tokens.length * c.vocabSize() : c.vocabSize()];
        forward(sequence, tokens, allLogits, logits);
        return logits;
    }

    /**
     * The same, writing the logits into {@code logits} ([T, V] or [V]). Once a step of the same size has run,
     * this allocates nothing, so a decoding loop can call it per token without garbage.
     */
    public void forward(Sequence sequence, int[] tokens, boolean allLogits, float[] logits) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to process");
        checkOwned(sequence);
        checkTokens(tokens);
        if (sequence.length() + tokens.length > maxContext) {
            throw new ContextLimitException(sequence.length(), tokens.length, maxContext);
        }
        int V = c.vocabSize();
        if (logits.length < (allLogits ? tokens.length * V : V)) throw new IllegalArgumentException("logits array too small");
        for (int start = 0; start < tokens.length; start += prefillChunk) {
            int count = Math.min(prefillChunk, tokens.length - start);
            stepRows(count);
            for (int i = 0; i < count; i++) {
                stepTokens[i] = tokens[start + i];
                stepPositions[i] = sequence.length() + i;
                stepSequences[i] = sequence;
            }
            boolean last = start + count == tokens.length;
            step(stepTokens, stepPositions, stepSequences, allLogits ? logits : (last ? logits : null), allLogits ? start * V : 0, allLogits);
            sequence.advance(count);
        }
    }

    /** Step arrays of exactly {@code count} rows (kept while the size stays the same). */
    private void stepRows(int count) {
        if (stepTokens.length == count) return;
        stepTokens = new int[count];
        stepPositions = new int[count];
        stepSequences = new Sequence[count];
    }

    /** One decoding step for several sequences at once: token i continues sequence i. Returns [N, V] logits. */
    public float[] decode(Sequence[] sequences, int[] tokens) {
        if (sequences.length != tokens.length) throw new IllegalArgumentException("one token per sequence");
        checkTokens(tokens);
        for (int i = 0; i < tokens.length; i++) {
            checkOwned(sequences[i]);
            for (int j = 0; j < i; j++) {
                if (sequences[j] == sequences[i]) throw new IllegalArgumentException("a sequence appears twice in one decode step");
            }
            if (sequences[i].length() + 1 > maxContext) throw new ContextLimitException(sequences[i].length(), 1, maxContext);
        }
        stepRows(tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            stepTokens[i] = tokens[i];
            stepPositions[i] = sequences[i].length();
            stepSequences[i] = sequences[i];
        }
        float[] logits = new float[tokens.length * c.vocabSize()];
        step(stepTokens, stepPositions, stepSequences, logits, 0, true);
        for (Sequence s : sequences) s.advance(1);
        return logits;
    }

    private void checkOwned(Sequence sequence) {
        if (sequence.owner() != this) throw new IllegalArgumentException("the sequence belongs to another engine");
    }

    /** Throws {@link IllegalArgumentException} naming the first token id outside the vocabulary. */
    public void checkTokens(int[] tokens) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at index " + i
                        + " is outside the vocabulary (0.." + (c.vocabSize() - 1) + ")");
            }
        }
    }

    /**
     * Runs rows through all layers. Logits go to {@code logits} from {@code logitsOffset}: all rows when
     * {@code allRows}, else the last row only; none when {@code logits} is null.
     */
    private void step(int[] tokens, int[] positions, Sequence[] rowSequences, float[] logits, int logitsOffset, boolean allRows) {
        int T = tokens.length, H = c.hiddenSize(), E = c.numExperts(), k = c.expertsPerToken();
        ensureCapacity(T);
        if (wholeStep != null) {
            stepOnDevice(tokens, positions, rowSequences, logits, logitsOffset, allRows);
            return;
        }
        for (int t = 0; t < T; t++) w.embedding().copyTo((long) tokens[t] * H, x, t * H, H);
        prepareBatches(tokens, positions, rowSequences);
        reportResiduals(0, T, positions, rowSequences);
        for (int layer = 0; layer < c.numLayers(); layer++) {
            Backend attention = placement.attention(layer);
            transfers.onLayer(layer, T);
            attention.attention(layer, batchFor(attention), x);
            attention.router(layer, T, x, normed, routerLogits);
            for (int t = 0; t < T; t++) TopKRouting.select(routerLogits, t * E, E, k, routeExperts, routeWeights, t * k);
            reportRouting(layer, tokens, positions, rowSequences);
            runExperts(layer, T);
            combineExperts(T);
            reportResiduals(layer + 1, T, positions, rowSequences);
        }
        if (logits == null) return;
        Backend head = placement.head();
        transfers.onHead(allRows ? T : 1);
        if (allRows) {
            float[] out = logitsOffset == 0 && logits.length == T * c.vocabSize() ? logits : new float[T * c.vocabSize()];
            head.head(T, x, out);
            if (out != logits) System.arraycopy(out, 0, logits, logitsOffset, out.length);
        } else {
            System.arraycopy(x, (T - 1) * H, lastRow, 0, H);
            head.head(1, lastRow, logits);
        }
    }

    /**
     * The same step run whole by the placement's only backend (its activations stay on its device); the routing
     * and residuals come back only for listeners, which then see what {@link #step} would show them.
     */
    private void stepOnDevice(int[] tokens, int[] positions, Sequence[] rowSequences, float[] logits, int logitsOffset, boolean allRows) {
        int T = tokens.length, H = c.hiddenSize(), E = c.numExperts(), k = c.expertsPerToken();
        prepareBatches(tokens, positions, rowSequences);
        boolean residuals = listeners.stream().anyMatch(ForwardListener::wantsResiduals);
        StepTrace trace = listeners.isEmpty() ? null : StepTrace.of(c.numLayers(), T, k, E, H, residuals);
        wholeStep.forward(stepBatches[0], logits, logitsOffset, allRows, trace);
        if (trace == null) return;
        if (residuals) System.arraycopy(trace.residuals()[0], 0, x, 0, T * H);
        reportResiduals(0, T, positions, rowSequences);
        for (int layer = 0; layer < c.numLayers(); layer++) {
            System.arraycopy(trace.experts()[layer], 0, routeExperts, 0, T * k);
            System.arraycopy(trace.weights()[layer], 0, routeWeights, 0, T * k);
            System.arraycopy(trace.routerLogits()[layer], 0, routerLogits, 0, T * E);
            reportRouting(layer, tokens, positions, rowSequences);
            if (residuals) System.arraycopy(trace.residuals()[layer + 1], 0, x, 0, T * H);
            reportResiduals(layer + 1, T, positions, rowSequences);
        }
    }

    /**
     * Each expert gets the rows routed to it, in row order, from the backend that holds it: all of the layer's
     * selected experts in one {@link Backend#experts} call where one backend holds them all and takes it.
     */
    private void runExperts(int layer, int T) {
        int H = c.hiddenSize(), E = c.numExperts(), k = c.expertsPerToken();
        if (runExpertsTogether(layer, T)) return;
        for (int e = 0; e < E; e++) {
            int count = 0;
            for (int t = 0; t < T; t++) {
                for (int slot = 0; slot < k; slot++) {
                    if (routeExperts[t * k + slot] == e) groupRows[count++] = t * k + slot;
                }
            }
            if (count == 0) continue;
            transfers.onExpert(layer, e, count);
            for (int i = 0; i < count; i++) groupTokens[i] = groupRows[i] / k;
            placement.expert(layer, e).expert(layer, e, groupTokens, count, normed, expertRows);
            for (int i = 0; i < count; i++) System.arraycopy(expertRows, i * H, expertOut, groupRows[i] * H, H);
        }
    }

    /** {@link #runExperts} as one {@link Backend#experts} call; false (nothing done) where the backend declines. */
    private boolean runExpertsTogether(int layer, int T) {
        int H = c.hiddenSize(), E = c.numExperts(), k = c.expertsPerToken();
        Backend backend = placement.expert(layer, 0);
        for (int e = 1; e < E; e++) if (placement.expert(layer, e) != backend) return false;
        int n = 0, count = 0;
        groupStart[0] = 0;
        for (int e = 0; e < E; e++) {
            int first = count;
            for (int t = 0; t < T; t++) {
                for (int slot = 0; slot < k; slot++) {
                    if (routeExperts[t * k + slot] == e) groupRows[count++] = t * k + slot;
                }
            }
            if (count == first) continue;
            groupExperts[n++] = e;
            groupStart[n] = count;
        }
        for (int i = 0; i < count; i++) groupTokens[i] = groupRows[i] / k;
        if (!backend.experts(layer, n, groupExperts, groupStart, groupTokens, normed, expertRows)) return false;
        for (int j = 0; j < n; j++) transfers.onExpert(layer, groupExperts[j], groupStart[j + 1] - groupStart[j]);
        for (int i = 0; i < count; i++) System.arraycopy(expertRows, i * H, expertOut, groupRows[i] * H, H);
        return true;
    }

    /**
     * {@code x[t] += Σ_slot weight[t, slot] · out[t, slot]}, summed in router order with fused multiply-adds (as a
     * device that runs the whole step does: the same bits on either path).
     */
    private void combineExperts(int T) {
        int H = c.hiddenSize(), k = c.expertsPerToken();
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < H; i++) {
                float sum = 0f;
                for (int slot = 0; slot < k; slot++) sum = Math.fma(routeWeights[t * k + slot], expertOut[(t * k + slot) * H + i], sum);
                x[t * H + i] += sum;
            }
        }
    }

    /** Fills each attention backend's batch for this step, reusing the batch objects while the rows arrays stay. */
    private void prepareBatches(int[] tokens, int[] positions, Sequence[] rowSequences) {
        for (int i = 0; i < stepBatches.length; i++) {
            TokenBatch b = stepBatches[i];
            if (b == null || b.tokens() != tokens || b.positions() != positions) {
                b = stepBatches[i] = new TokenBatch(tokens, positions, new KvCache[tokens.length]);
            }
            Backend backend = attentionBackends.get(i);
            for (int t = 0; t < tokens.length; t++) b.caches()[t] = rowSequences[t].cache(backend);
        }
    }

    private TokenBatch batchFor(Backend backend) {
        for (int i = 0; i < stepBatches.length; i++) if (attentionBackends.get(i) == backend) return stepBatches[i];
        throw new IllegalStateException("no attention batch for " + backend.name());
    }

    private void reportRouting(int layer, int[] tokens, int[] positions, Sequence[] rowSequences) {
        if (listeners.isEmpty()) return;
        int E = c.numExperts(), k = c.expertsPerToken();
        for (int t = 0; t < tokens.length; t++) {
            int[] experts = Arrays.copyOfRange(routeExperts, t * k, t * k + k);
            float[] weights = Arrays.copyOfRange(routeWeights, t * k, t * k + k);
            float[] all = Arrays.copyOfRange(routerLogits, t * E, t * E + E);
            for (ForwardListener l : listeners) l.onRouting(layer, rowSequences[t].id(), positions[t], tokens[t], experts, weights, all);
        }
    }

    private void reportResiduals(int stage, int T, int[] positions, Sequence[] rowSequences) {
        if (listeners.isEmpty()) return;
        int H = c.hiddenSize();
        for (ForwardListener l : listeners) {
            if (!l.wantsResiduals()) continue;
            for (int t = 0; t < T; t++) l.onResidual(stage, rowSequences[t].id(), positions[t], Arrays.copyOfRange(x, t * H, t * H + H));
        }
    }

    private void ensureCapacity(int T) {
        int H = c.hiddenSize(), E = c.numExperts(), k = c.expertsPerToken();
        if (x.length < T * H) {
            x = new float[T * H];
            normed = new float[T * H];
            expertRows = new float[T * k * H];
            expertOut = new float[T * k * H];
            routerLogits = new float[T * E];
            routeWeights = new float[T * k];
            routeExperts = new int[T * k];
            groupRows = new int[T * k];
            groupTokens = new int[T * k];
        }
    }

    @Override
    public void close() {
        placement.backends().forEach(Backend::close);
    }
}
