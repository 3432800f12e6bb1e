package gptoss.model.testing;

import gptoss.model.config.LayerType;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** Small model configs and synthetic checkpoints for tests. */
public final class TestModels {
    private TestModels() {
    }

    /** A small config with the given shape; rope and other constants as gpt-oss. */
    public static ModelConfig config(int layers, int hidden, int heads, int kvHeads, int headDim, int experts, int topK,
                                     int intermediate, int vocab, int window) {
        return new ModelConfig(layers, hidden, heads, kvHeads, headDim, experts, topK, intermediate, vocab, window,
                ModelConfig.alternating(layers), 150000, 32, 32, 1, 4096, false, 131072, 7.0,
                ModelConfig.SWIGLU_ALPHA, 1e-5, -1);
    }

    /** 2 layers, H 64, 4 heads of 16 over 2 KV heads, 4 experts top-2, I 64, vocab 512, window 4. */
    public static ModelConfig small() {
        return config(2, 64, 4, 2, 16, 4, 2, 64, 512, 4);
    }

    /** A copy of {@code c} with other rope constants and layer types. */
    public static ModelConfig withRope(ModelConfig c, double theta, double factor, double betaFast, double betaSlow,
                                       int originalContext, List<LayerType> types) {
        return new ModelConfig(c.numLayers(), c.hiddenSize(), c.numHeads(), c.numKvHeads(), c.headDim(), c.numExperts(),
                c.expertsPerToken(), c.intermediateSize(), c.vocabSize(), c.slidingWindow(), types, theta, factor,
                betaFast, betaSlow, originalContext, false, c.maxContext(), c.swigluLimit(), c.swigluAlpha(),
                c.rmsNormEps(), c.eosTokenId());
    }

    public static Path write(Path dir, ModelConfig c, long seed, SyntheticCheckpoint.Layout layout, int shards) {
        try {
            SyntheticCheckpoint.write(dir, c, seed, layout, shards, false, null);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
