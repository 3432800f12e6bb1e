package gptoss.model.harmony;

import gptoss.model.harmony.HarmonyEvent.ContentDelta;
import gptoss.model.harmony.HarmonyEvent.Diagnostic;
import gptoss.model.harmony.HarmonyEvent.MessageEnded;
import gptoss.model.harmony.HarmonyEvent.MessageStarted;
import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.model.tokenizer.SpecialTokens;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static gptoss.model.harmony.HarmonyRendererTest.ids;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stream parser on model output: the openai/harmony parsing vectors (expected messages as in its
 * src/tests.rs and tests/test_harmony.py, non-strict mode where the output is malformed), UTF-8 streaming,
 * diagnostics with recovery, and render→parse round trips.
 */
class HarmonyStreamParserTest {
    static final HarmonyTokenizer TOK = HarmonyTokenizer.instance();
    static final HarmonyRenderer RENDERER = new HarmonyRenderer(TOK);

    // ---- vectors ---------------------------------------------------------------------------------------------

    @Test
    void specVectorD_analysisThenFinal() {
        int[] completion = ids("""
                200005 35644 200008 1844 31064 25 392 4827 382 220 17 659 220 17 16842 12295 81645 13 51441 6052 13 200007
                200006 173781 200005 17196 200008 17 659 220 17 314 220 19 13 200002""");
        assertEquals("<|channel|>analysis<|message|>User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer.<|end|>"
                + "<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>", TOK.decode(completion));
        HarmonyStreamParser parser = new HarmonyStreamParser(TOK);
        List<HarmonyEvent> events = new ArrayList<>();
        for (int id : completion) events.addAll(parser.accept(id));
        events.addAll(parser.finish());

        assertEquals(List.of(
                Message.assistant("analysis", "User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer."),
                Message.assistant("final", "2 + 2 = 4.")), parser.messages());
        assertTrue(parser.diagnostics().isEmpty());
        List<MessageEnded> ends = events.stream().filter(e -> e instanceof MessageEnded).map(e -> (MessageEnded) e).toList();
        assertEquals(List.of(SpecialTokens.END, SpecialTokens.RETURN), ends.stream().map(MessageEnded::stopToken).toList());
        assertEquals(new MessageHeader(Author.of(Role.ASSISTANT), null, "analysis", null),
                assertInstanceOf(MessageStarted.class, events.getFirst()).header());
        StringBuilder finalText = new StringBuilder();
        for (HarmonyEvent e : events) if (e instanceof ContentDelta d && "final".equals(d.header().channel())) finalText.append(d.text());
        assertEquals("2 + 2 = 4.", finalText.toString());
        assertEquals(parser.messages(), HarmonyStreamParser.parseMessages(TOK, completion));
    }

    @Test
    void reasoningResponseClosedByReturnMidway() {
        // test-data/test_simple_reasoning_response.txt
        int[] completion = ids("""
                200005 35644 200008 1844 31064 25 392 4827 382 220 17 659 220 17 16842 12295 81645 13 51441 6052 13 200002
                200006 173781 200005 17196 200008 17 659 220 17 314 220 19 13""");
        assertEquals(List.of(
                Message.assistant("analysis", "User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer."),
                Message.assistant("final", "2 + 2 = 4.")), HarmonyStreamParser.parseMessages(TOK, completion));
    }

    @Test
    void toolCallWithRecipientAfterTheChannel() {
        // src/tests.rs test_simple_tool_call
        int[] completion = ids("""
                200005 35644 200008 1844 31064 25 392 4827 382 290 11122 306 40510 16842 1416 1309 316 1199 37342 170154
                4584 13 200007 200006 173781 200005 35644 316 28 29712 170154 3490 200008 10848 7693 1243 392 173844 18583""");
        assertEquals(List.of(
                Message.assistant("analysis", "User asks: \"What is the weather in Tokyo?\" We need to use lookup_weather tool."),
                Message.assistant("analysis", "{\"location\": \"Tokyo\"}").withRecipient("lookup_weather").withContentType("code")),
                HarmonyStreamParser.parseMessages(TOK, completion));
    }

    @Test
    void textVectorsOfTheLibrary() {
        List<Message> streamed = parse(TOK.encodeWithSpecialTokens(HarmonyTestData.STREAMABLE_PARSER), Role.ASSISTANT);
        assertEquals(3, streamed.size());
        assertEquals(Message.assistant("commentary", "{\"query\": \"current US president July 2025\", \"topn\": 10, \"source\": \"news\"}")
                .withRecipient("browser.search").withContentType("code"), streamed.get(1));
        assertEquals(Message.of(Author.tool("browser.search"), "{\"result\": \"https://openai.com/\"}")
                .withRecipient("assistant").withChannel("commentary"), streamed.get(2));

        assertEquals(List.of(Message.of(Author.tool("browser.search"), "{\"result\": \"https://openai.com/\"}")
                        .withChannel("commentary").withRecipient("assistant")),
                parse(TOK.encodeWithSpecialTokens(HarmonyTestData.TOOL_RESPONSE_PARSING), null));
    }

    @Test
    void constrainMarkerAdjacentToTheRecipient() {
        Message expected = Message.assistant("commentary", "{\"latitude\":48.8566,\"longitude\":2.3522}")
                .withRecipient("functions.get_weather").withContentType("<|constrain|>json");
        assertEquals(List.of(expected), parse(TOK.encodeWithSpecialTokens("<|start|>assistant<|channel|>commentary "
                + "to=functions.get_weather<|constrain|>json<|message|>{\"latitude\":48.8566,\"longitude\":2.3522}<|call|>"), null));
        assertEquals(List.of(expected), parse(TOK.encodeWithSpecialTokens("<|start|>assistant to=functions.get_weather"
                + "<|channel|>commentary<|constrain|>json<|message|>{\"latitude\":48.8566,\"longitude\":2.3522}<|end|>"), null));
        // the common model output: channel, recipient, then " <|constrain|>json", primed with <|start|>assistant
        assertEquals(List.of(expected), parse(TOK.encodeWithSpecialTokens("<|channel|>commentary to=functions.get_weather "
                + "<|constrain|>json<|message|>{\"latitude\":48.8566,\"longitude\":2.3522}<|call|>"), Role.ASSISTANT));
    }

    @Test
    void missingMessageTokenRecoversLikeNonStrictMode() {
        HarmonyStreamParser parser = feed(Role.ASSISTANT, "I must refuse<|end|><|start|>assistant<|channel|>analysis<|message|>"
                + "We must refuse<|end|><|start|>assistant<|channel|>final<|message|>I'm sorry, but I can't help with that.<|return|>");
        assertEquals(List.of(Message.of(Role.ASSISTANT, "I must refuse"), Message.assistant("analysis", "We must refuse"),
                Message.assistant("final", "I'm sorry, but I can't help with that.")), parser.messages());
        assertEquals(1, parser.diagnostics().size());
        assertTrue(parser.diagnostics().getFirst().problem().contains("before <|message|>"));

        assertEquals(Message.assistant("analysis", "I must refuse"),
                feed(Role.ASSISTANT, "<|channel|>analysis I must refuse<|end|>").messages().getFirst());

        assertEquals(List.of(Message.of(Role.ASSISTANT, "... Let's use the tool."),
                        Message.assistant("commentary", "{\"location\": \"Tokyo\"}").withRecipient("functions.get_weather").withContentType("json")),
                feed(Role.ASSISTANT, "... Let's use the tool.<|end|><|start|>assistant to=functions.get_weather<|channel|>commentary json"
                        + "<|message|>{\"location\": \"Tokyo\"}<|call|>").messages());
    }

    // ---- UTF-8 streaming (cases of tests/test_harmony.py) ------------------------------------------------------

    @Test
    void invalidUtf8BecomesReplacementCharacters() {
        assertEquals(" \uFFFD \uFFFDworked", onlyText(concat(TOK.encodeWithSpecialTokens("<|start|>assistant<|message|>"),
                new int[]{9552, 9552}, TOK.encodeWithSpecialTokens("worked<|end|>"))));
        assertEquals(" \uFFFDXY", onlyText(concat(TOK.encodeWithSpecialTokens("<|start|>assistant<|message|>"),
                new int[]{9552}, TOK.encode("XY"), new int[]{SpecialTokens.END})));
        assertEquals(" \uFFFD interesting", onlyText(concat(TOK.encodeWithSpecialTokens("<|start|>assistant<|message|>"),
                new int[]{9552}, TOK.encode(" interesting"), new int[]{SpecialTokens.END})));
        assertEquals(" \uFFFDHi", onlyText(concat(TOK.encodeWithSpecialTokens("<|start|>assistant<|message|>"),
                new int[]{9552}, TOK.encode("Hi"))), "flushed at the end of output");
    }

    @Test
    void deltasWithoutAStopTokenAndPartialBytesAreNotLeaked() {
        HarmonyStreamParser parser = new HarmonyStreamParser(TOK, null);
        StringBuilder deltas = new StringBuilder();
        for (int id : concat(TOK.encodeWithSpecialTokens("<|start|>assistant<|message|>"), new int[]{9552},
                TOK.encode(" interesting"), TOK.encode(" story"))) {
            for (HarmonyEvent e : parser.accept(id)) if (e instanceof ContentDelta d) deltas.append(d.text());
        }
        assertEquals(" \uFFFD interesting story", parser.currentText());
        assertEquals(" \uFFFD interesting story", deltas.toString());
        List<HarmonyEvent> more = parser.accept(TOK.encode("Y")[0]);
        assertEquals("Y", assertInstanceOf(ContentDelta.class, more.getFirst()).text());

        List<Message> two = parse(concat(TOK.encodeWithSpecialTokens("<|start|>assistant<|message|>"), new int[]{9552, 9552},
                TOK.encodeWithSpecialTokens("<|end|><|start|>assistant<|message|>Hi<|end|>")), null);
        assertEquals(Message.of(Role.ASSISTANT, "Hi"), two.get(1));
    }

    @Test
    void multiTokenCharactersArriveWhole() {
        HarmonyStreamParser parser = feed(null, "<|start|>assistant<|message|>");
        int[] heart = TOK.encode("💖");
        assertTrue(heart.length >= 2);
        assertTrue(parser.accept(heart[0]).isEmpty());
        assertEquals("", parser.currentText());
        List<HarmonyEvent> events = new ArrayList<>();
        for (int i = 1; i < heart.length; i++) events.addAll(parser.accept(heart[i]));
        assertEquals(List.of(new ContentDelta(new MessageHeader(Author.of(Role.ASSISTANT), null, null, null), "💖")), events);

        String tricky = "Hello Müller, Γειά σου, Привет, שלום, مرحبا, नमस्ते, こんにちは, 안녕하세요, 你好. Normalized (naïve) vs. "
                + "decomposed (nai\u0308ve) characters. Some emojis: 😊👋🏾👨‍👩‍👧‍👦🇺🇸.";
        HarmonyStreamParser p = new HarmonyStreamParser(TOK);
        StringBuilder deltas = new StringBuilder();
        for (int id : concat(TOK.encodeWithSpecialTokens("<|message|>"), TOK.encode(tricky), new int[]{SpecialTokens.END})) {
            for (HarmonyEvent e : p.accept(id)) if (e instanceof ContentDelta d) deltas.append(d.text());
        }
        assertEquals(tricky, deltas.toString());
        assertEquals(List.of(Message.of(Role.ASSISTANT, tricky)), p.messages());
    }

    // ---- malformed output: diagnostics and recovery ------------------------------------------------------------

    @Test
    void invalidTokenIdInContent() {
        HarmonyStreamParser parser = feed(null, "<|start|>assistant<|channel|>analysis<|message|>Practice invalid token handling.");
        List<HarmonyEvent> events = parser.accept(Integer.MAX_VALUE);
        assertInstanceOf(Diagnostic.class, events.getFirst());
        parser.finish();
        assertEquals(List.of(Message.assistant("analysis", "Practice invalid token handling.\uFFFD")), parser.messages());
    }

    @Test
    void recoversFromMalformedOutput() {
        // text before <|start|>, an unknown role, stray specials in content, a message not closed, junk in a header,
        // <|endoftext|> in a header, a header without role, an empty channel name
        HarmonyStreamParser parser = feed(null, "garbage<|start|>robot<|message|>skipped<|end|>"
                + "<|start|>assistant<|channel|>final<|message|>a<|reserved_200100|>b<|channel|>c"
                + "<|start|>assistant junk to=functions.f<|channel|>commentary json<|message|>{}<|call|>"
                + "<|start|>assistant<|endoftext|><|start|><|message|>x<|end|><|start|>assistant<|channel|><|message|>y<|end|>");
        assertEquals(List.of(
                Message.assistant("final", "abc"),
                Message.assistant("commentary", "{}").withRecipient("functions.f").withContentType("json"),
                Message.of(Role.ASSISTANT, "y")), parser.messages());
        List<String> problems = parser.diagnostics().stream().map(Diagnostic::problem).toList();
        List<String> expectedStarts = List.of(
                "expected <|start|> but got text token",
                "unknown role 'robot' in message header; skipping the message",
                "unexpected <|reserved_200100|> inside message content; ignored",
                "unexpected <|channel|> inside message content; ignored",
                "message not closed before <|start|>; closing it",
                "unexpected text in message header: 'junk'; ignored",
                "<|endoftext|> inside a message header; message dropped",
                "message header has no role; skipping the message",
                "empty channel name in message header; ignored");
        assertEquals(expectedStarts.size(), problems.size(), problems.toString());
        for (int i = 0; i < problems.size(); i++) assertTrue(problems.get(i).startsWith(expectedStarts.get(i)), problems.get(i));
        Diagnostic unknownRole = parser.diagnostics().get(1);
        assertEquals(SpecialTokens.MESSAGE, unknownRole.token());
    }

    @Test
    void endOfOutputInsideAHeaderAndChannelWithoutStart() {
        HarmonyStreamParser parser = feed(Role.ASSISTANT, "<|channel|>analysis");
        List<HarmonyEvent> end = parser.finish();
        assertEquals("output ended inside a message header", assertInstanceOf(Diagnostic.class, end.getFirst()).problem());
        assertTrue(parser.messages().isEmpty());

        HarmonyStreamParser missingStart = feed(Role.ASSISTANT, "<|channel|>analysis<|message|>think<|end|><|channel|>final<|message|>42<|return|>");
        assertEquals(List.of(Message.assistant("analysis", "think"), Message.assistant("final", "42")), missingStart.messages());
        assertEquals(1, missingStart.diagnostics().size());

        HarmonyStreamParser nothing = new HarmonyStreamParser(TOK);
        assertTrue(nothing.finish().isEmpty(), "an empty completion is no error");
    }

    @Test
    void headerWithoutMessageTokenBecomesContentAfterTheLimit() {
        String rambling = "the model forgot the message token and keeps writing ".repeat(8);
        HarmonyStreamParser parser = feed(Role.ASSISTANT, "<|channel|>final " + rambling + "<|return|>");
        assertEquals(1, parser.messages().size());
        Message m = parser.messages().getFirst();
        assertEquals("final", m.channel());
        assertEquals(rambling.strip(), m.text().strip());
        assertTrue(parser.diagnostics().getFirst().problem().startsWith("no <|message|> after 64 header tokens"));
    }

    @Test
    void neverThrowsOnRandomTokens() {
        Random random = new Random(11);
        int[] interesting = {SpecialTokens.START, SpecialTokens.END, SpecialTokens.MESSAGE, SpecialTokens.CHANNEL,
                SpecialTokens.CONSTRAIN, SpecialTokens.RETURN, SpecialTokens.CALL, SpecialTokens.END_OF_TEXT, 200_100, 173781,
                17196, 35644, 9552, 316, 28, 44580, -5, 201_088, Integer.MIN_VALUE};
        for (int trial = 0; trial < 500; trial++) {
            HarmonyStreamParser parser = new HarmonyStreamParser(TOK, random.nextBoolean() ? Role.ASSISTANT : null);
            int ended = 0;
            for (int i = 0; i < 200; i++) {
                int id = random.nextInt(3) == 0 ? random.nextInt(HarmonyTokenizer.VOCAB_SIZE) : interesting[random.nextInt(interesting.length)];
                for (HarmonyEvent e : parser.accept(id)) if (e instanceof MessageEnded) ended++;
            }
            for (HarmonyEvent e : parser.finish()) if (e instanceof MessageEnded) ended++;
            assertEquals(ended, parser.messages().size());
            assertNull(parser.currentHeader());
        }
    }

    // ---- round trips ---------------------------------------------------------------------------------------

    @Test
    void renderThenParseGivesTheMessagesBack() {
        Random random = new Random(2024);
        for (int trial = 0; trial < 200; trial++) {
            List<Message> messages = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            int n = 1 + random.nextInt(8);
            boolean functions = random.nextBoolean();
            for (int i = 0; i < n; i++) {
                Message m = randomMessage(random, functions);
                messages.add(m);
            }
            boolean hasFunctionTools = HarmonyRenderer.hasFunctionTools(messages);
            for (Message m : messages) texts.add(expectedText(m, hasFunctionTools));
            int[] rendered = RENDERER.renderConversation(new Conversation(messages), false);
            HarmonyStreamParser parser = new HarmonyStreamParser(TOK, null);
            for (int id : rendered) parser.accept(id);
            parser.finish();
            assertTrue(parser.diagnostics().isEmpty(), () -> parser.diagnostics() + " for " + TOK.decode(rendered));
            List<Message> parsed = parser.messages();
            assertEquals(messages.size(), parsed.size(), () -> TOK.decode(rendered));
            for (int i = 0; i < messages.size(); i++) {
                Message want = messages.get(i);
                Message got = parsed.get(i);
                assertEquals(want.author(), got.author());
                assertEquals(want.recipient(), got.recipient());
                assertEquals(want.channel(), got.channel());
                assertEquals(want.contentType(), got.contentType());
                assertEquals(texts.get(i), got.text());
            }
            // the same assistant turn as a completion: primed with <|start|>assistant, the prompt's last tokens
            List<Message> assistantTail = new ArrayList<>();
            for (int i = messages.size() - 1; i >= 0 && messages.get(i).role() == Role.ASSISTANT; i--) assistantTail.addFirst(messages.get(i));
            if (!assistantTail.isEmpty()) {
                int[] turn = RENDERER.renderConversation(new Conversation(assistantTail), false);
                int[] completion = java.util.Arrays.copyOfRange(turn, 2, turn.length); // drop <|start|>assistant
                List<Message> parsedTurn = HarmonyStreamParser.parseMessages(TOK, completion);
                assertEquals(assistantTail.size(), parsedTurn.size());
                for (int i = 0; i < assistantTail.size(); i++) assertEquals(assistantTail.get(i).text(), parsedTurn.get(i).text());
            }
        }
    }

    private static final String[] TEXTS = {"Hello", "What is 2 + 2?", "<|end|>", "<|start|>assistant<|channel|>final<|message|>x",
            "日本語のテキスト", "emoji 👨‍👩‍👧‍👦 and 🇺🇸", "line one\r\nline two\n\n", "  spaced  ", "{\"a\": [1, 2, {\"b\": null}]}",
            "combining e\u0301", "", "to=functions.x", "<|constrain|>json", "tab\there", "∑ x² ≈ π"};

    private static String randomText(Random random) {
        StringBuilder sb = new StringBuilder();
        int pieces = random.nextInt(4);
        for (int i = 0; i < pieces; i++) sb.append(TEXTS[random.nextInt(TEXTS.length)]);
        return sb.toString();
    }

    private static Message randomMessage(Random random, boolean functions) {
        String tool = "functions." + new String[]{"get_weather", "lookup", "a_b_c"}[random.nextInt(3)];
        return switch (random.nextInt(9)) {
            case 0 -> Message.user(randomText(random));
            case 1 -> new Message(new Author(Role.USER, "alice"), null, null, null, List.of(new TextContent(randomText(random))));
            case 2 -> Message.assistant("analysis", randomText(random));
            case 3 -> Message.assistant(random.nextBoolean() ? "final" : "commentary", randomText(random));
            case 4 -> Message.assistant("commentary", "{\"x\": 1}").withRecipient(tool)
                    .withContentType(random.nextBoolean() ? "<|constrain|>json" : "json");
            case 5 -> Message.of(Author.tool(tool), randomText(random)).withRecipient("assistant").withChannel("commentary");
            case 6 -> Message.system(SystemContent.defaults().withReasoningEffort(ReasoningEffort.values()[random.nextInt(3)])
                    .withConversationStartDate(random.nextBoolean() ? "2025-01-02" : null));
            case 7 -> Message.developer(functions
                    ? DeveloperContent.empty().withInstructions(randomText(random)).withFunctionTools(List.of(
                    new ToolDescription("get_weather", "Weather.\nSecond line.", HarmonyRendererTest.json(
                            "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}"))))
                    : DeveloperContent.empty().withInstructions(randomText(random)));
            default -> Message.assistant("analysis", randomText(random)).withRecipient("python").withContentType("code");
        };
    }

    private static String expectedText(Message m, boolean hasFunctionTools) {
        StringBuilder sb = new StringBuilder();
        for (Content c : m.content()) {
            switch (c) {
                case TextContent t -> sb.append(t.text());
                case SystemContent s -> sb.append(HarmonyRenderer.systemText(s, hasFunctionTools));
                case DeveloperContent d -> sb.append(HarmonyRenderer.developerText(d));
            }
        }
        return sb.toString();
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private static HarmonyStreamParser feed(Role primed, String trustedText) {
        HarmonyStreamParser parser = new HarmonyStreamParser(TOK, primed);
        for (int id : TOK.encodeWithSpecialTokens(trustedText)) parser.accept(id);
        return parser;
    }

    private static List<Message> parse(int[] ids, Role primed) {
        HarmonyStreamParser parser = new HarmonyStreamParser(TOK, primed);
        for (int id : ids) parser.accept(id);
        parser.finish();
        return parser.messages();
    }

    private static String onlyText(int[] ids) {
        List<Message> messages = parse(ids, null);
        assertEquals(1, messages.size());
        assertFalse(messages.getFirst().content().isEmpty());
        return messages.getFirst().text();
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
