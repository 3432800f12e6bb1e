package gptoss.model.harmony;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static gptoss.model.harmony.HarmonyRendererTest.RENDERER;
import static gptoss.model.harmony.HarmonyRendererTest.TOK;
import static gptoss.model.harmony.HarmonyRendererTest.assertVector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Conversations in the openai-harmony JSON: reading what the library writes, writing what it reads, and errors. */
class HarmonyJsonTest {

    @Test
    void readsTheLibrarysSerializationOfSpecVectorC() {
        // As Rust serde writes it: a single text content as a plain string, the tool as role "tool" with a name.
        String json = """
                {"messages": [
                  {"role": "user", "content": "What is the weather in SF?"},
                  {"role": "assistant", "channel": "analysis",
                   "content": [{"type": "text", "text": "User asks: “What is the weather in SF?” We need to use lookup_weather tool."}]},
                  {"role": "assistant", "recipient": "functions.lookup_weather", "channel": "commentary",
                   "content_type": "<|constrain|>json", "content": "{\\"location\\": \\"San Francisco\\"}"},
                  {"role": "tool", "name": "functions.lookup_weather", "content": "{\\"temperature\\": 20, \\"description\\": \\"sunny\\"}"}
                ]}""";
        Conversation convo = HarmonyJson.readConversation(json, "c.json");
        assertVector(HarmonyTestData.DOES_NOT_DROP_IF_ONGOING_ANALYSIS, RENDERER.renderConversationForCompletion(convo, Role.ASSISTANT));
    }

    @Test
    void readsThePythonSerializationOfFunctionsWithParameters() {
        // As Python Conversation.to_json writes it (model_dump(exclude_none=True), content always a list).
        String json = """
                {"messages": [
                  {"role": "system", "name": null, "content": [{"type": "system_content",
                     "model_identity": "You are ChatGPT, a large language model trained by OpenAI.",
                     "reasoning_effort": "High", "conversation_start_date": "2025-06-28", "knowledge_cutoff": "2024-06",
                     "channel_config": {"valid_channels": ["analysis", "commentary", "final"], "channel_required": true}}]},
                  {"role": "developer", "name": null, "content": [{"type": "developer_content",
                     "instructions": "Always respond in riddles",
                     "tools": {"functions": {"name": "functions", "tools": [
                       {"name": "get_location", "description": "Gets the location of the user."},
                       {"name": "get_current_weather", "description": "Gets the current weather in the provided location.",
                        "parameters": {"type": "object", "properties": {
                           "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                           "format": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}},
                         "required": ["location"]}},
                       {"name": "get_multiple_weathers", "description": "Gets the current weather in the provided list of locations.",
                        "parameters": {"type": "object", "properties": {
                           "locations": {"type": "array", "items": {"type": "string"},
                                         "description": "List of city and state, e.g. [\\"San Francisco, CA\\", \\"New York, NY\\"]"},
                           "format": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}},
                         "required": ["locations"]}},
                       {"name": "kitchensink", "description": "A function with various complex schemas.",
                        "parameters": {"description": "params object", "type": "object", "properties": {
                           "string": {"type": "string", "title": "STRING", "description": "A string", "examples": ["hello", "world"]},
                           "string_nullable": {"type": "string", "nullable": true, "description": "A nullable string", "default": "the default"},
                           "string_enum": {"type": "string", "enum": ["a", "b", "c"]},
                           "oneof_string_or_number": {"oneOf": [{"type": "string", "default": "default_string_in_oneof"},
                                                                 {"type": "number", "description": "numbers can happen too"}],
                                                      "description": "a oneof", "default": 20}}}}]}}}]},
                  {"role": "user", "name": null, "content": [{"type": "text", "text": "What is the weather like in SF?"}]}
                ]}""";
        Conversation convo = HarmonyJson.readConversation(json, "functions.json");
        assertEquals(HarmonyRendererTest.functionsWithParameters(), convo);
        assertVector(HarmonyTestData.RENDER_FUNCTIONS_WITH_PARAMETERS, RENDERER.renderConversationForCompletion(convo, Role.ASSISTANT));
    }

    @Test
    void writeThenReadIsTheIdentity() {
        List<Conversation> conversations = List.of(
                HarmonyRendererTest.functionsWithParameters(),
                Conversation.of(Message.system(SystemContent.defaults().withBrowserTool().withPythonTool()
                        .withModelIdentity(null).withChannelConfig(null).withReasoningEffort(null).withKnowledgeCutoff(null))),
                Conversation.of(new Message(new Author(Role.USER, "alice"), null, null, null,
                                List.of(new TextContent("a"), new TextContent("<|end|>"))),
                        Message.assistant("commentary", "{}").withRecipient("functions.f").withContentType("<|constrain|>json"),
                        Message.of(Author.tool("functions.f"), "ok").withRecipient("assistant").withChannel("commentary")));
        for (Conversation c : conversations) {
            String json = HarmonyJson.writeConversation(c);
            assertEquals(c, HarmonyJson.readConversation(json, "written.json"), json);
        }
    }

    @Test
    void missingSystemFieldsTakeDefaultsAndNullsMeanAbsent() {
        Conversation defaults = HarmonyJson.readConversation(
                "{\"messages\": [{\"role\": \"system\", \"content\": [{\"type\": \"system_content\"}]}]}", "d.json");
        assertEquals(Conversation.of(Message.system(SystemContent.defaults())), defaults);

        Conversation nulls = HarmonyJson.readConversation("""
                {"messages": [{"role": "system", "content": [{"type": "system_content", "model_identity": null,
                  "knowledge_cutoff": null, "channel_config": null, "reasoning_effort": "low", "tools": null}]}]}""", "n.json");
        SystemContent system = (SystemContent) nulls.messages().getFirst().content().getFirst();
        assertNull(system.modelIdentity());
        assertNull(system.knowledgeCutoff());
        assertNull(system.channelConfig());
        assertEquals(ReasoningEffort.LOW, system.reasoningEffort());
        assertEquals(Map.of(), system.tools());
        assertEquals("<|start|>system<|message|>Reasoning: low<|end|>", TOK.decode(RENDERER.render(nulls.messages().getFirst())));
    }

    @Test
    void errorsNameTheProblem() {
        assertError("{\"messages\": [", "x.json: not valid JSON at line 1");
        assertError("{\"messages\": []} trailing", "x.json: not valid JSON");
        assertError("", "x.json: empty input");
        assertError("[1, 2]", "x.json: expected a JSON object, got a list");
        assertError("{}", "x.json.messages: missing");
        assertError("{\"messages\": {}}", "x.json.messages: expected a list, got an object");
        assertError("{\"messages\": [{\"content\": \"hi\"}]}", "x.json: messages[0].role: missing");
        assertError("{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}",
                "x.json: messages[0].role: unknown role 'robot' (expected system, developer, user, assistant or tool)");
        assertError("{\"messages\": [{\"role\": \"user\"}]}", "x.json: messages[0].content: missing");
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", "x.json: messages[0].content: expected a string or a list of contents, got a number");
        assertError("{\"messages\": [{\"role\": \"tool\", \"content\": \"r\"}]}", "x.json: messages[0].name: missing: a tool message needs");
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image\", \"url\": \"u\"}]}]}",
                "x.json: messages[0].content[0].type: unknown content type 'image'");
        assertError("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\"}]}]}", "x.json: messages[0].content[0].text: missing");
        assertError("{\"messages\": [{\"role\": \"system\", \"content\": [{\"type\": \"system_content\", \"reasoning_effort\": \"max\"}]}]}",
                "x.json: messages[0].content[0].reasoning_effort: unknown effort 'max'");
        assertError("{\"messages\": [{\"role\": \"user\", \"channel\": 3, \"content\": \"\"}]}", "x.json: messages[0].channel: expected a string, got a number");
        assertError("""
                {"messages": [{"role": "developer", "content": [{"type": "developer_content",
                  "tools": {"functions": {"name": "functions", "tools": [{"name": "f", "parameters": "oops"}]}}}]}]}""",
                "x.json: messages[0].content[0].tools.functions.tools[0].parameters: expected a JSON schema object, got a string");
    }

    private static void assertError(String json, String expectedStart) {
        HarmonyFormatException e = assertThrows(HarmonyFormatException.class, () -> HarmonyJson.readConversation(json, "x.json"));
        if (!e.getMessage().startsWith(expectedStart)) throw new AssertionError("expected '" + expectedStart + "...' but got: " + e.getMessage());
    }
}
