package gptoss.model.harmony;

import gptoss.model.harmony.ChatCompletions.ChatRequest;
import gptoss.model.harmony.ChatCompletions.Options;
import gptoss.model.harmony.ChatCompletions.ToolChoice;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static gptoss.model.harmony.HarmonyRendererTest.RENDERER;
import static gptoss.model.harmony.HarmonyRendererTest.TOK;
import static gptoss.model.harmony.HarmonyRendererTest.assertVector;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chat-completions requests mapped to Harmony. Expected prompts are written out by hand from the format (spec
 * §5.1–5.3) and the vLLM mapping, not produced by the code under test.
 */
class ChatCompletionsTest {
    static final Options NO_DATE = Options.withoutDate();

    static final String SYSTEM_HEAD = "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
            + "Knowledge cutoff: 2024-06\n";
    static final String CHANNELS = "# Valid channels: analysis, commentary, final. Channel must be included for every message.";

    @Test
    void systemPromptBecomesDeveloperInstructions() {
        ChatRequest request = ChatCompletions.read("""
                {"model": "gpt-oss-20b", "reasoning_effort": "high",
                 "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}""", "r.json", NO_DATE);
        String expected = SYSTEM_HEAD + "\nReasoning: high\n\n" + CHANNELS + "<|end|>"
                + "<|start|>developer<|message|># Instructions\n\nBe brief.<|end|>"
                + "<|start|>user<|message|>Hi<|end|><|start|>assistant";
        assertVector(expected, RENDERER.renderConversationForCompletion(request.conversation(), Role.ASSISTANT));
        assertEquals(ToolChoice.NONE, request.toolChoice());
    }

    @Test
    void plainUserRequestHasNoDeveloperMessageAndTheDateOfTheOptions() {
        ChatRequest request = ChatCompletions.read("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"A\"}, "
                + "{\"type\": \"text\", \"text\": \"B\"}]}]}", "r.json", new Options("2025-06-28"));
        String expected = SYSTEM_HEAD + "Current date: 2025-06-28\n\nReasoning: medium\n\n" + CHANNELS + "<|end|>"
                + "<|start|>user<|message|>AB<|end|><|start|>assistant";
        int[] ids = RENDERER.renderConversationForCompletion(request.conversation(), Role.ASSISTANT);
        assertEquals(expected, TOK.decode(ids));
        // each text part is its own content piece, tokenized separately (as vLLM passes them): "A" then "B"
        int[] user = RENDERER.render(request.conversation().messages().get(1));
        int[] expectedUser = Stream.of(new int[]{200006, 1428, 200008}, TOK.encode("A"), TOK.encode("B"), new int[]{200007})
                .flatMapToInt(IntStream::of).toArray();
        assertArrayEquals(expectedUser, user);
        assertEquals(LocalDate.now().toString(), Options.today().conversationStartDate());
    }

    @Test
    void toolsToolCallsAndToolResults() {
        String json = """
                {"messages": [
                   {"role": "developer", "content": "Use tools."},
                   {"role": "user", "content": "Weather in Paris?"},
                   {"role": "assistant", "reasoning": "Need weather.", "content": null,
                    "tool_calls": [{"id": "call_1", "type": "function",
                                    "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]},
                   {"role": "tool", "tool_call_id": "call_1", "content": "{\\"temp\\": 20}"}],
                 "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get weather",
                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
                 "tool_choice": "auto", "temperature": 0.7, "top_p": 0.9, "max_completion_tokens": 256, "seed": 5}""";
        ChatRequest request = ChatCompletions.read(json, "r.json", new Options("2025-06-28"));
        String expected = SYSTEM_HEAD + "Current date: 2025-06-28\n\nReasoning: medium\n\n" + CHANNELS
                + "\nCalls to these tools must go to the commentary channel: 'functions'.<|end|>"
                + "<|start|>developer<|message|># Instructions\n\nUse tools.\n\n# Tools\n\n## functions\n\nnamespace functions {\n\n"
                + "// Get weather\ntype get_weather = (_: {\ncity: string,\n}) => any;\n\n} // namespace functions<|end|>"
                + "<|start|>user<|message|>Weather in Paris?<|end|>"
                + "<|start|>assistant<|channel|>analysis<|message|>Need weather.<|end|>"
                + "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>"
                + "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{\"temp\": 20}<|end|>"
                + "<|start|>assistant";
        assertVector(expected, RENDERER.renderConversationForCompletion(request.conversation(), Role.ASSISTANT));
        assertEquals(ToolChoice.AUTO, request.toolChoice());
        assertEquals(0.7, request.temperature());
        assertEquals(0.9, request.topP());
        assertEquals(256L, request.maxTokens());
        assertEquals(5L, request.seed());
    }

    @Test
    void assistantPreambleAndToolResultByName() {
        ChatRequest request = ChatCompletions.read("""
                {"messages": [{"role": "user", "content": "x"},
                  {"role": "assistant", "content": "Let me check.", "tool_calls": [
                     {"id": "a", "type": "function", "function": {"name": "f", "arguments": {"k": 1}}}]},
                  {"role": "tool", "name": "f", "content": [{"type": "text", "text": "done"}]}],
                 "tools": [{"type": "function", "function": {"name": "f"}}]}""", "r.json", NO_DATE);
        List<Message> messages = request.conversation().messages();
        assertEquals(List.of(
                Message.user("x"),
                Message.assistant("commentary", "Let me check."),
                Message.assistant("commentary", "{\"k\":1}").withRecipient("functions.f").withContentType("<|constrain|>json"),
                Message.of(Author.tool("functions.f"), "done").withRecipient("assistant").withChannel("commentary")),
                messages.subList(2, messages.size()));
        assertTrue(TOK.decode(RENDERER.render(messages.get(1))).contains("type f = () => any;"));
    }

    @Test
    void chainOfThoughtOfCompletedTurnsIsDropped() {
        ChatRequest request = ChatCompletions.read("""
                {"messages": [{"role": "user", "content": "2+2?"},
                  {"role": "assistant", "reasoning_content": "add", "content": "4"},
                  {"role": "user", "content": "3+5?"},
                  {"role": "assistant", "reasoning": "add again", "content": "8"},
                  {"role": "user", "content": "and 1+1?"}]}""", "r.json", NO_DATE);
        List<Message> messages = request.conversation().messages();
        assertEquals(List.of(Message.user("2+2?"), Message.assistant("final", "4"), Message.user("3+5?"),
                Message.assistant("final", "8"), Message.user("and 1+1?")), messages.subList(1, messages.size()));
        // while a tool call is in progress the analysis is kept
        ChatRequest ongoing = ChatCompletions.read("""
                {"messages": [{"role": "user", "content": "q"},
                  {"role": "assistant", "reasoning": "think", "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": "{}"}}]},
                  {"role": "tool", "tool_call_id": "1", "content": "r"}],
                 "tools": [{"type": "function", "function": {"name": "f"}}]}""", "r.json", NO_DATE);
        assertEquals(Message.assistant("analysis", "think"), ongoing.conversation().messages().get(3));
    }

    @Test
    void toolChoices() {
        String tools = "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]";
        String user = "\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]";
        ChatRequest none = ChatCompletions.read("{" + user + ", " + tools + ", \"tool_choice\": \"none\"}", "r.json", NO_DATE);
        assertEquals(ToolChoice.NONE, none.toolChoice());
        assertEquals(2, none.conversation().messages().size(), "no developer message: the tools are left out");
        assertEquals(ToolChoice.REQUIRED, ChatCompletions.read("{" + user + ", " + tools + ", \"tool_choice\": \"required\"}", "r", NO_DATE).toolChoice());
        assertEquals(new ToolChoice(ToolChoice.Mode.FUNCTION, "f"), ChatCompletions.read("{" + user + ", " + tools
                + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"f\"}}}", "r", NO_DATE).toolChoice());
        assertNull(ChatCompletions.read("{" + user + "}", "r", NO_DATE).temperature());
    }

    @Test
    void errorsNameTheProblem() {
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}", "r.json: not valid JSON at line 1");
        assertError("{\"messages\": []}", "r.json.messages: empty");
        assertError("{\"messages\": [{\"role\": \"robot\", \"content\": \"q\"}]}",
                "r.json: messages[0].role: unknown role 'robot' (expected system, developer, user, assistant or tool)");
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"u\"}}]}]}",
                "r.json: messages[0].content[0].type: content part type 'image_url' is not supported");
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}], \"reasoning_effort\": \"minimal\"}",
                "r.json.reasoning_effort: 'minimal' is not supported by gpt-oss");
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}], \"tools\": [{\"type\": \"web_search\"}]}",
                "r.json.tools[0].type: tool type 'web_search' is not supported (only 'function')");
        assertError("{\"messages\": [{\"role\": \"tool\", \"tool_call_id\": \"zz\", \"content\": \"r\"}]}",
                "r.json: messages[0].tool_call_id: 'zz' matches no earlier assistant tool call");
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}], \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"g\"}}}",
                "r.json.tool_choice.function.name: function 'g' is not among the request's tools");
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}], \"tool_choice\": \"required\"}",
                "r.json.tool_choice: 'required' but the request defines no tools");
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}], \"temperature\": \"hot\"}",
                "r.json.temperature: expected a number, got a string");
        assertError("{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": [{\"id\": \"1\"}]}]}",
                "r.json: messages[0].tool_calls[0].function: expected a JSON object, got nothing");
    }

    private static void assertError(String json, String expectedStart) {
        HarmonyFormatException e = assertThrows(HarmonyFormatException.class, () -> ChatCompletions.read(json, "r.json", NO_DATE));
        if (!e.getMessage().startsWith(expectedStart)) throw new AssertionError("expected '" + expectedStart + "...' but got: " + e.getMessage());
    }
}
