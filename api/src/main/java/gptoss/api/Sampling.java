package gptoss.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.model.tokenizer.SpecialTokens;
import gptoss.sampling.Sampler;
import gptoss.sampling.SamplingParams;
import gptoss.sampling.constraint.JsonGrammar;
import gptoss.sampling.constraint.JsonSchemaConstraint;
import gptoss.sampling.constraint.TokenConstraint;
import gptoss.sampling.constraint.TokenVocabulary;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Builds a request's {@link TokenSelector} from its {@link GenerationParams}: the single hook point for the
 * sampling module. Each sequence gets its own {@link LogitSampler} (top-k / top-p / min-p / penalties / bias, its
 * own seeded generator and penalty history) and its own constraint state, so batched requests never see each
 * other's state. An {@link GenerationParams.OutputConstraint} becomes a token mask over the o200k vocabulary:
 * JSON against the schema as the {@code final} answer, or a forced call whose arguments follow the function's
 * parameters schema after {@code <|constrain|>json<|message|>}.
 */
public final class Sampling {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom SEEDS = new SecureRandom();
    private static final JsonGrammar ANY_OBJECT = JsonGrammar.compile(JSON.createObjectNode().put("type", "object"));

    private Sampling() {
    }

    /** A schema the constraint compiler cannot take (HTTP 400 naming {@link #param()}). */
    public static final class UnsupportedSchemaException extends IllegalArgumentException {
        private final String param;

        public UnsupportedSchemaException(String param, String message) {
            super(message);
            this.param = param;
        }

        /** The request field at fault, e.g. {@code response_format.json_schema.schema}. */
        public String param() {
            return param;
        }
    }

    /**
     * A fresh selector for one chat sequence (the completion starts after {@code <|start|>assistant}). Throws
     * {@link UnsupportedSchemaException} for a schema that cannot be enforced, {@link IllegalArgumentException}
     * for a forced call of an unknown function.
     */
    public static TokenSelector selector(GenerationParams params) {
        return selector(params, true);
    }

    /** A fresh selector for a raw text completion: a JSON constraint applies from the first token. */
    public static TokenSelector completionSelector(GenerationParams params) {
        return selector(params, false);
    }

    static TokenSelector selector(GenerationParams params, boolean harmony) {
        long seed = params.seed() != null ? params.seed() : SEEDS.nextLong();
        SamplingParams sp = params.sampling().withSeed(seed);
        TokenConstraint constraint = params.constraint() == null ? null : constraint(params.constraint(), harmony);
        return TokenSelector.of(sp.lazySampler(constraint), constraint);
    }

    /** The token constraint of {@code c} (grammars compiled now, so a bad schema fails the request before it runs). */
    static TokenConstraint constraint(GenerationParams.OutputConstraint c, boolean harmony) {
        TokenVocabulary vocab = TokenVocabulary.o200k();
        HarmonyTokenizer tok = HarmonyTokenizer.instance();
        return switch (c.kind()) {
            case JSON -> {
                // json_object: a JSON object, as OpenAI's JSON mode gives
                JsonGrammar g = c.jsonSchema() == null ? (harmony ? ANY_OBJECT : JsonGrammar.anyJson())
                        : compile(c.jsonSchema(), "response_format.json_schema.schema", "the response schema");
                if (!harmony) yield JsonSchemaConstraint.of(g, vocab);
                int[] header = concat(List.of(new int[]{SpecialTokens.CHANNEL}, tok.encode("final"), new int[]{SpecialTokens.MESSAGE}));
                yield new ForcedMessage(vocab, List.of(new ForcedMessage.Header(header, g, SpecialTokens.RETURN)));
            }
            case TOOL_CALL -> {
                if (!harmony) throw new IllegalArgumentException("a forced tool call needs a chat request");
                Map<String, String> functions = c.functions();
                List<String> names;
                if (c.functionName() != null) {
                    if (!functions.containsKey(c.functionName())) {
                        throw new IllegalArgumentException("tool_choice names function '" + c.functionName()
                                + "', which is not among the tools " + functions.keySet());
                    }
                    names = List.of(c.functionName());
                } else {
                    if (functions.isEmpty()) throw new IllegalArgumentException("tool_choice 'required' needs at least one function in tools");
                    names = List.copyOf(functions.keySet());
                }
                List<ForcedMessage.Header> headers = new ArrayList<>();
                for (String name : names) {
                    String params = functions.get(name);
                    JsonGrammar g = params == null ? ANY_OBJECT
                            : compile(params, "tools.function.parameters", "the parameters of function '" + name + "'");
                    // what the renderer writes for an assistant tool call (and gpt-oss generates):
                    // to=functions.NAME<|channel|>commentary <|constrain|>json<|message|>
                    int[] header = concat(List.of(tok.encode(" to=functions." + name), new int[]{SpecialTokens.CHANNEL},
                            tok.encode("commentary"), tok.encode(" "), new int[]{SpecialTokens.CONSTRAIN}, tok.encode("json"),
                            new int[]{SpecialTokens.MESSAGE}));
                    headers.add(new ForcedMessage.Header(header, g, SpecialTokens.CALL));
                }
                yield new ForcedMessage(vocab, headers);
            }
        };
    }

    private static JsonGrammar compile(String schemaText, String param, String what) {
        JsonNode schema;
        try {
            schema = JSON.readTree(schemaText);
        } catch (Exception e) {
            throw new UnsupportedSchemaException(param, what + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (schema == null || !schema.isObject()) throw new UnsupportedSchemaException(param, what + " must be a JSON object");
        try {
            return JsonGrammar.compile(schema);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new UnsupportedSchemaException(param, what + " cannot be enforced: " + e.getMessage());
        }
    }

    private static int[] concat(List<int[]> parts) {
        return parts.stream().flatMapToInt(IntStream::of).toArray();
    }
}
