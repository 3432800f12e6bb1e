package gptoss.cli;

import gptoss.model.InvalidModelException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code gptoss} command line. */
@Command(name = "gptoss", mixinStandardHelpOptions = true, version = "gptoss 0.1.0",
        description = "Run OpenAI's gpt-oss models on the JVM (CPU Vector API, TornadoVM).",
        subcommands = {
                RunCommand.class,
                ChatCommand.class,
                RenderCommand.class,
                LogitsCommand.class,
                GenerateCommand.class,
                SynthCommand.class,
                PlanCommand.class,
                gptoss.cli.profile.ProfileCommand.class,
                DevicesCommand.class,
                BenchCommand.class,
                ServeCommand.class,
                BenchServeCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line; every error becomes one line on stderr and a non-zero exit code. */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + describe(e));
            if (e instanceof UsageException) return 2;
            if (Boolean.getBoolean("gptoss.debug")) e.printStackTrace(commandLine.getErr());
            return 1;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("error: " + e.getMessage());
            return 2;
        });
        return cli.execute(args);
    }

    static String describe(Throwable e) {
        if (e instanceof UsageException || e instanceof InvalidModelException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
            return e.getMessage();
        }
        if (e instanceof java.nio.file.NoSuchFileException n) return "file not found: " + n.getFile();
        if (e instanceof java.io.IOException) return "I/O error: " + e.getMessage();
        if (e instanceof OutOfMemoryError) return "out of memory: " + e.getMessage() + " (raise -Xmx through GPTOSS_JAVA_OPTS)";
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
