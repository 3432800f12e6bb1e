package gptoss.model.synth;

import gptoss.model.config.ModelConfig;

import java.util.Locale;

/** Named synthetic model shapes for {@code gptoss synth}. */
public enum SynthPreset {
    /** A few MB of weights with the real vocabulary (so Harmony prompts work): generated in about a second. */
    TINY(new ModelConfig(2, 64, 4, 2, 16, 4, 2, 64, 201088, 16, ModelConfig.alternating(2),
            150000, 32, 32, 1, 4096, false, 131072, 7.0, ModelConfig.SWIGLU_ALPHA, 1e-5, 200002), true),
    /** gpt-oss-20b layer shapes with 4 layers: the benchmark model (about 4.2 GB). */
    BENCH_M(ModelConfig.gptOss20b().withShape(4, 32), true),
    /** The gpt-oss-20b config (weights on request: 13.8 GB). */
    GPT_OSS_20B(ModelConfig.gptOss20b(), false),
    /** The gpt-oss-120b config (weights on request: 65 GB). */
    GPT_OSS_120B(ModelConfig.gptOss120b(), false);

    private final ModelConfig config;
    private final boolean weightsByDefault;

    SynthPreset(ModelConfig config, boolean weightsByDefault) {
        this.config = config;
        this.weightsByDefault = weightsByDefault;
    }

    public ModelConfig config() {
        return config;
    }

    public boolean weightsByDefault() {
        return weightsByDefault;
    }

    /** The name used on the command line: tiny, bench-m, 20b, 120b. */
    public String cliName() {
        return switch (this) {
            case TINY -> "tiny";
            case BENCH_M -> "bench-m";
            case GPT_OSS_20B -> "20b";
            case GPT_OSS_120B -> "120b";
        };
    }

    public static SynthPreset parse(String name) {
        for (SynthPreset p : values()) if (p.cliName().equals(name.toLowerCase(Locale.ROOT))) return p;
        throw new IllegalArgumentException("unknown preset '" + name + "' (tiny, bench-m, 20b, 120b)");
    }
}
