package gptoss.cli;

/** Parses token ids given as {@code 1,2,3} (spaces allowed). */
final class TokenIdsOption {
    private TokenIdsOption() {
    }

    static int[] parse(String text) {
        String trimmed = text.trim();
        if (trimmed.isEmpty()) throw new IllegalArgumentException("--tokens: no token ids given");
        String[] parts = trimmed.split("[,\\s]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--tokens: '" + parts[i] + "' is not a token id");
            }
        }
        return ids;
    }
}
