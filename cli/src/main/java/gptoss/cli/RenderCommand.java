package gptoss.cli;

import gptoss.model.harmony.ChatCompletions;
import gptoss.model.harmony.Conversation;
import gptoss.model.harmony.HarmonyChat;
import gptoss.model.harmony.HarmonyJson;
import gptoss.model.harmony.Role;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code gptoss render}: a conversation or chat-completions request as Harmony token ids (or text). */
@Command(name = "render", mixinStandardHelpOptions = true,
        description = "Render a conversation (openai-harmony JSON) or an OpenAI chat-completions request to Harmony token ids.")
final class RenderCommand implements Callable<Integer> {
    static final class Input {
        @Option(names = "--conversation", paramLabel = "FILE.json", description = "A conversation in the openai-harmony serialization.")
        Path conversation;

        @Option(names = "--request", paramLabel = "FILE.json", description = "An OpenAI chat-completions request (rendered for the assistant's reply).")
        Path request;
    }

    @ArgGroup(multiplicity = "1")
    Input input;

    @Option(names = "--next-role", paramLabel = "ROLE", description = "Render for completion by this role (e.g. assistant).")
    String nextRole;

    @Option(names = "--text", description = "Print the rendered text instead of the ids.")
    boolean text;

    @Option(names = "--no-date", description = "With --request: leave the current date out of the system message.")
    boolean noDate;

    @Override
    public Integer call() {
        HarmonyChat chat = HarmonyChat.standard();
        int[] ids;
        if (input.request != null) {
            ChatCompletions.Options options = noDate ? ChatCompletions.Options.withoutDate() : ChatCompletions.Options.today();
            ids = chat.promptFromChatCompletionsFile(input.request, options).tokens();
        } else {
            Conversation conversation = HarmonyJson.readConversation(input.conversation);
            Role role = nextRole == null ? null : Role.fromWireName(nextRole);
            if (nextRole != null && role == null) {
                throw new IllegalArgumentException("--next-role: unknown role '" + nextRole + "' (system, developer, user, assistant, tool)");
            }
            ids = role == null ? chat.renderer().renderConversation(conversation)
                    : chat.renderer().renderConversationForCompletion(conversation, role);
        }
        if (text) System.out.println(chat.tokenizer().decode(ids));
        else System.out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        return 0;
    }
}
