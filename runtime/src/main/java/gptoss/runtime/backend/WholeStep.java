package gptoss.runtime.backend;

/**
 * A backend that holds the whole model and runs a forward step itself, from token ids to logits: embedding,
 * every layer (attention, router, top-k and softmax, the chosen experts, their combine in router order, the
 * residual adds) and the head, with the activations kept on its device. The engine hands it the step when it is
 * the only backend of the placement ({@link Backend#wholeStep()}); results follow spec §2 exactly as the
 * part-by-part calls do.
 */
public interface WholeStep {

    /**
     * Runs the rows of {@code batch} (appending to their caches) and writes logits to {@code logits} from
     * {@code logitsOffset}: [T, V] when {@code allRows}, else [V] of the last row; none when {@code logits} is null.
     * When {@code trace} is not null, fills what it asks for (routing of every layer, residual rows).
     */
    void forward(TokenBatch batch, float[] logits, int logitsOffset, boolean allRows, StepTrace trace);

    /**
     * What a step reports back for listeners, per layer l and row t: the chosen experts and their weights
     * ([L][T·k], router order), all router logits ([L][T·E]); residual rows ([L+1][T·H], stage 0 the embedding)
     * only when {@code residuals} is not null.
     */
    record StepTrace(int[][] experts, float[][] weights, float[][] routerLogits, float[][] residuals) {
        public static StepTrace of(int layers, int rows, int k, int experts, int hidden, boolean residuals) {
            int[][] ids = new int[layers][rows * k];
            float[][] w = new float[layers][rows * k], logits = new float[layers][rows * experts];
            return new StepTrace(ids, w, logits, residuals ? new float[layers + 1][rows * hidden] : null);
        }
    }
}
