package gptoss.cli;

import gptoss.api.LoadedModel;
import gptoss.model.npy.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code gptoss logits}: float32 logits [T, V] of every prompt position, as .npy. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Write the logits of every prompt position as a float32 [T, V] .npy file.")
final class LogitsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "Prompt token ids, e.g. 1,2,3.")
    String tokens;

    @Option(names = "--out", required = true, paramLabel = "FILE.npy", description = "Output file.")
    Path out;

    @Option(names = "--router-trace", paramLabel = "FILE.jsonl", description = "Write every routing decision as JSON lines.")
    Path routerTrace;

    @Override
    public Integer call() throws Exception {
        int[] ids = TokenIdsOption.parse(tokens);
        try (LoadedModel m = model.load();
             RouterTraceWriter trace = routerTrace == null ? null : new RouterTraceWriter(routerTrace)) {
            if (trace != null) m.engine().addListener(trace);
            float[] logits = m.engine().forward(m.engine().newSequence(), ids, true);
            Npy.writeFloats(out, logits, ids.length, m.config().vocabSize());
            System.err.printf("wrote %s [%d, %d]%n", out, ids.length, m.config().vocabSize());
        }
        return 0;
    }
}
