package gptoss.model.harmony;

/** One piece of a message's content: plain text, or the structured content of a system or developer message. */
public sealed interface Content permits TextContent, SystemContent, DeveloperContent {
}
