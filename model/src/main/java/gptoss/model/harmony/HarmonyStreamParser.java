package gptoss.model.harmony;

import gptoss.model.harmony.HarmonyEvent.ContentDelta;
import gptoss.model.harmony.HarmonyEvent.Diagnostic;
import gptoss.model.harmony.HarmonyEvent.MessageEnded;
import gptoss.model.harmony.HarmonyEvent.MessageStarted;
import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.model.tokenizer.SpecialTokens;
import gptoss.model.tokenizer.TextDecoder;
import gptoss.model.tokenizer.TokenList;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Parses sampled token ids, one at a time, into Harmony messages (the Harmony library's StreamableParser, made
 * forgiving). By default it starts right after the prompt's {@code <|start|>assistant}, so the first thing
 * expected is the rest of a header such as {@code <|channel|>analysis<|message|>}.
 *
 * <p>Headers are read as the library does: the channel follows {@code <|channel|>}; the recipient
 * ({@code to=...}) may come before or after the channel; a content type such as {@code <|constrain|>json} or
 * {@code json} comes last. A message ends at {@code <|end|>}, {@code <|return|>} or {@code <|call|>}.
 *
 * <p>Malformed output never throws. Each problem produces a {@link Diagnostic} and the parser recovers:
 * text outside a message is skipped up to the next {@code <|start|>}; a header cut short by a stop token becomes
 * a message whose content is the header's leftover text (the library's non-strict mode); a header that runs
 * past {@value #MAX_HEADER_TOKENS} tokens without {@code <|message|>} is taken as content; an unknown role skips
 * the message; a {@code <|start|>} inside content closes the open message; stray special tokens are dropped.
 *
 * <p>Not thread-safe: one parser per generated sequence.
 */
public final class HarmonyStreamParser {
    /** {@link MessageEnded#stopToken()} when no token closed the message. */
    public static final int NO_STOP_TOKEN = -1;
    /** Header tokens accepted before the parser decides {@code <|message|>} was forgotten. */
    public static final int MAX_HEADER_TOKENS = 64;

    private static final String CHANNEL_MARKER = "<|channel|>";
    private static final String CONSTRAIN_MARKER = "<|constrain|>";

    private enum State { EXPECT_START, HEADER, CONTENT, SKIP }

    private final HarmonyTokenizer tokenizer;
    private final List<Message> messages = new ArrayList<>();
    private final List<Diagnostic> diagnostics = new ArrayList<>();

    private State state;
    private int position = -1;
    private Role headerRole;
    private final TokenList headerTokens = new TokenList(32);
    private MessageHeader header;
    private final StringBuilder text = new StringBuilder();
    private TextDecoder decoder;
    private boolean junkReported;

    /** A parser for a completion primed with {@code <|start|>assistant}. */
    public HarmonyStreamParser(HarmonyTokenizer tokenizer) {
        this(tokenizer, Role.ASSISTANT);
    }

    /**
     * @param primedRole the role whose {@code <|start|>role} ended the prompt, or null when the output starts
     *                   with {@code <|start|>} itself (e.g. parsing a whole rendered conversation)
     */
    public HarmonyStreamParser(HarmonyTokenizer tokenizer, Role primedRole) {
        this.tokenizer = tokenizer;
        if (primedRole == null) {
            state = State.EXPECT_START;
        } else {
            state = State.HEADER;
            headerRole = primedRole;
        }
        decoder = tokenizer.newTextDecoder();
    }

    /** Parses a whole completion primed with {@code <|start|>assistant} (output end included) into messages. */
    public static List<Message> parseMessages(HarmonyTokenizer tokenizer, int[] completionTokens) {
        HarmonyStreamParser parser = new HarmonyStreamParser(tokenizer);
        for (int token : completionTokens) parser.accept(token);
        parser.finish();
        return parser.messages();
    }

    // ---------------------------------------------------------------------------------------------------------
    // input

    /** Feeds one sampled token; returns what it caused (often nothing). */
    public List<HarmonyEvent> accept(int token) {
        position++;
        List<HarmonyEvent> events = new ArrayList<>(2);
        if (token < 0 || token >= tokenizer.vocabSize()) {
            diagnose(events, "token " + token + " is outside the vocabulary; " + (state == State.CONTENT ? "replaced by U+FFFD" : "ignored"), token);
            if (state == State.CONTENT) appendText(events, decoder.flush() + TextDecoder.REPLACEMENT);
            return events;
        }
        switch (state) {
            case EXPECT_START -> expectStart(token, events);
            case HEADER -> header(token, events);
            case CONTENT -> content(token, events);
            case SKIP -> skip(token);
        }
        return events;
    }

    /** The output ended (stop token already fed, length limit or EOS): closes an open message. */
    public List<HarmonyEvent> finish() {
        List<HarmonyEvent> events = new ArrayList<>(2);
        int end = position + 1;
        switch (state) {
            case HEADER -> {
                if (headerTokens.size() > 0 || headerRole == null) {
                    events.add(record(new Diagnostic("output ended inside a message header", end, -1)));
                }
            }
            case CONTENT -> {
                appendText(events, decoder.flush());
                endMessage(events, NO_STOP_TOKEN);
            }
            default -> {
            }
        }
        state = State.EXPECT_START;
        headerTokens.clear();
        return events;
    }

    private void expectStart(int token, List<HarmonyEvent> events) {
        if (token == SpecialTokens.START) {
            openHeader(null);
        } else if (token == SpecialTokens.CHANNEL) {
            diagnose(events, "<|channel|> without <|start|>; assuming an assistant message", token);
            openHeader(Role.ASSISTANT);
            headerTokens.add(token);
        } else if (!junkReported) {
            diagnose(events, "expected <|start|> but got " + describe(token) + "; skipping to the next <|start|>", token);
            junkReported = true;
        }
    }

    private void header(int token, List<HarmonyEvent> events) {
        switch (token) {
            case SpecialTokens.MESSAGE -> {
                HeaderParse parsed = parseHeader(headerText(true), headerRole, false);
                if (parsed.header == null) {
                    diagnose(events, parsed.problems.getFirst() + "; skipping the message", token);
                    state = State.SKIP;
                    return;
                }
                for (String problem : parsed.problems) diagnose(events, problem + "; ignored", token);
                beginContent(parsed.header, events);
            }
            case SpecialTokens.START -> {
                diagnose(events, "message header interrupted by <|start|>; starting over", token);
                openHeader(null);
            }
            case SpecialTokens.END, SpecialTokens.RETURN, SpecialTokens.CALL -> {
                if (headerTokens.size() == 0) {
                    diagnose(events, "message ended by " + describe(token) + " before any header; nothing to keep", token);
                    state = State.EXPECT_START;
                    return;
                }
                // The model forgot <|message|>: as the library's non-strict mode, keep the leftover text as content.
                HeaderParse parsed = parseHeader(headerText(true), headerRole, true);
                if (parsed.header == null) {
                    diagnose(events, "message header ended by " + describe(token) + " before <|message|> (" + parsed.problems.getFirst() + "); dropped", token);
                } else {
                    diagnose(events, "message header ended by " + describe(token) + " before <|message|>; its text is taken as content", token);
                    beginContent(parsed.header, events);
                    appendText(events, parsed.rest);
                    endMessage(events, token);
                }
                state = State.EXPECT_START;
            }
            case SpecialTokens.END_OF_TEXT -> {
                diagnose(events, "<|endoftext|> inside a message header; message dropped", token);
                state = State.EXPECT_START;
            }
            default -> {
                if (tokenizer.isSpecial(token) && token != SpecialTokens.CHANNEL && token != SpecialTokens.CONSTRAIN) {
                    diagnose(events, "unexpected " + describe(token) + " in a message header; ignored", token);
                    return;
                }
                headerTokens.add(token);
                if (headerTokens.size() > MAX_HEADER_TOKENS) headerTooLong(token, events);
            }
        }
    }

    /** No {@code <|message|>} after many header tokens: the model is writing content; keep it as such. */
    private void headerTooLong(int token, List<HarmonyEvent> events) {
        String soFar = headerText(false); // the decoder keeps a split character for the content
        HeaderParse parsed = parseHeader(soFar, headerRole, true);
        if (parsed.header == null) {
            diagnose(events, "no <|message|> after " + MAX_HEADER_TOKENS + " header tokens (" + parsed.problems.getFirst() + "); skipping the message", token);
            state = State.SKIP;
            return;
        }
        diagnose(events, "no <|message|> after " + MAX_HEADER_TOKENS + " header tokens; taking them as content", token);
        TextDecoder carried = decoder;
        beginContent(parsed.header, events);
        decoder = carried;
        appendText(events, parsed.rest);
    }

    private void content(int token, List<HarmonyEvent> events) {
        switch (token) {
            case SpecialTokens.END, SpecialTokens.RETURN, SpecialTokens.CALL -> {
                appendText(events, decoder.flush());
                endMessage(events, token);
                state = State.EXPECT_START;
            }
            case SpecialTokens.START -> {
                diagnose(events, "message not closed before <|start|>; closing it", token);
                appendText(events, decoder.flush());
                endMessage(events, NO_STOP_TOKEN);
                openHeader(null);
            }
            case SpecialTokens.END_OF_TEXT -> {
                diagnose(events, "message closed by <|endoftext|>", token);
                appendText(events, decoder.flush());
                endMessage(events, token);
                state = State.EXPECT_START;
            }
            default -> {
                if (tokenizer.isSpecial(token)) {
                    diagnose(events, "unexpected " + describe(token) + " inside message content; ignored", token);
                } else {
                    appendText(events, decoder.decode(token));
                }
            }
        }
    }

    private void skip(int token) {
        switch (token) {
            case SpecialTokens.END, SpecialTokens.RETURN, SpecialTokens.CALL, SpecialTokens.END_OF_TEXT -> state = State.EXPECT_START;
            case SpecialTokens.START -> openHeader(null);
            default -> {
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // state changes

    private void openHeader(Role primedRole) {
        state = State.HEADER;
        headerRole = primedRole;
        headerTokens.clear();
        junkReported = false;
        decoder = tokenizer.newTextDecoder();
    }

    private void beginContent(MessageHeader parsedHeader, List<HarmonyEvent> events) {
        state = State.CONTENT;
        header = parsedHeader;
        text.setLength(0);
        decoder = tokenizer.newTextDecoder();
        events.add(new MessageStarted(parsedHeader));
    }

    private void appendText(List<HarmonyEvent> events, String delta) {
        if (delta.isEmpty()) return;
        text.append(delta);
        events.add(new ContentDelta(header, delta));
    }

    private void endMessage(List<HarmonyEvent> events, int stopToken) {
        Message message = header.toMessage(text.toString());
        messages.add(message);
        events.add(new MessageEnded(message, stopToken));
        header = null;
        text.setLength(0);
    }

    private void diagnose(List<HarmonyEvent> events, String problem, int token) {
        events.add(record(new Diagnostic(problem, position, token)));
    }

    private Diagnostic record(Diagnostic diagnostic) {
        diagnostics.add(diagnostic);
        return diagnostic;
    }

    /** The header tokens as text (special tokens as their names); {@code flush} ends a split character. */
    private String headerText(boolean flush) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < headerTokens.size(); i++) sb.append(decoder.decode(headerTokens.get(i)));
        if (flush) sb.append(decoder.flush());
        return sb.toString();
    }

    private static String describe(int token) {
        return SpecialTokens.isSpecial(token) ? SpecialTokens.name(token) : "text token " + token;
    }

    // ---------------------------------------------------------------------------------------------------------
    // header grammar

    private record HeaderParse(MessageHeader header, String rest, List<String> problems) {
    }

    /**
     * Reads a header the way the library does. {@code asContent}: the header was never closed by
     * {@code <|message|>}, so whatever is left after role and channel is content, not recipient/content type.
     */
    private static HeaderParse parseHeader(String headerText, Role primedRole, boolean asContent) {
        List<String> problems = new ArrayList<>();
        String s = headerText;
        String channel = null;
        int marker = s.indexOf(CHANNEL_MARKER);
        if (marker >= 0) {
            String after = s.substring(marker + CHANNEL_MARKER.length());
            int end = 0;
            while (end < after.length() && !Character.isWhitespace(after.charAt(end)) && after.charAt(end) != '<') end++;
            if (end == 0) problems.add("empty channel name in message header");
            else channel = after.substring(0, end);
            s = s.substring(0, marker) + after.substring(end);
        }
        s = s.strip();
        if (s.contains(CONSTRAIN_MARKER)) s = s.replace(CONSTRAIN_MARKER, " " + CONSTRAIN_MARKER).strip();
        List<String> parts = new ArrayList<>(s.isEmpty() ? List.of() : Arrays.asList(s.split("[ \\t\\n\\r\\f]+")));

        Author author;
        if (primedRole != null) {
            author = Author.of(primedRole);
            if (!parts.isEmpty() && parts.getFirst().equals(primedRole.wireName())) parts.removeFirst();
        } else {
            if (parts.isEmpty()) return new HeaderParse(null, "", List.of("message header has no role"));
            String first = parts.getFirst();
            author = parseAuthor(first);
            if (author == null && !asContent && !first.startsWith("to=") && (parts.size() > 1 || first.contains("."))) {
                author = Author.tool(first); // a tool answering, e.g. "functions.get_weather to=assistant"
            }
            if (author == null) return new HeaderParse(null, "", List.of("unknown role '" + first + "' in message header"));
            parts.removeFirst();
        }

        if (asContent) return new HeaderParse(new MessageHeader(author, null, channel, null), String.join(" ", parts), problems);

        String recipient = null;
        String contentType = null;
        if (!parts.isEmpty()) {
            int count = parts.size();
            String last = parts.removeLast();
            if (last.startsWith("to=")) {
                recipient = last.substring(3);
            } else if (count > 1 || last.startsWith(CONSTRAIN_MARKER)) {
                contentType = last;
                if (!parts.isEmpty()) {
                    String raw = parts.removeLast();
                    recipient = raw.startsWith("to=") ? raw.substring(3) : raw;
                }
            } else {
                recipient = last; // a lone word is a recipient (library rule)
            }
        }
        if (!parts.isEmpty()) problems.add("unexpected text in message header: '" + String.join(" ", parts) + "'");
        return new HeaderParse(new MessageHeader(author, recipient, channel, contentType), "", problems);
    }

    /** "assistant", or "user:alice" for a named author; null when it is no role. */
    private static Author parseAuthor(String word) {
        Role role = Role.fromWireName(word);
        if (role != null) return Author.of(role);
        int colon = word.indexOf(':');
        if (colon > 0) {
            Role named = Role.fromWireName(word.substring(0, colon));
            if (named != null && named != Role.TOOL) return new Author(named, word.substring(colon + 1));
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------------------
    // state for callers

    /** Messages completed so far. */
    public List<Message> messages() {
        return List.copyOf(messages);
    }

    /** Every problem met so far. */
    public List<Diagnostic> diagnostics() {
        return List.copyOf(diagnostics);
    }

    /** The header of the message being written, or null between messages. */
    public MessageHeader currentHeader() {
        return state == State.CONTENT ? header : null;
    }

    /** The text of the message being written so far ("" between messages). */
    public String currentText() {
        return state == State.CONTENT ? text.toString() : "";
    }
}
