package gptoss.model.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.model.npy.Npy;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The golden data in the repository is intact: every file's sha256 and every array's shape as the manifest says. */
class GoldenDataTest {
    private static final JsonNode MANIFEST = readManifest();

    private static JsonNode readManifest() {
        try {
            return new ObjectMapper().readTree(GoldenCase.caseA().resolve("golden/manifest.json").toFile());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void goldenCaseLivesInTheRepository() {
        Path root = GoldenCase.repository();
        assertTrue(Files.isRegularFile(root.resolve("pom.xml")), "the repository root holds pom.xml: " + root);
        assertTrue(GoldenCase.caseA().startsWith(root));
    }

    @Test
    void checkpointFilesMatchTheirSha256() throws Exception {
        JsonNode sums = MANIFEST.path("checkpoint").path("sha256");
        assertTrue(sums.size() >= 4, "manifest lists both layouts' config and weights");
        for (Map.Entry<String, JsonNode> e : sums.properties()) {
            assertEquals(e.getValue().asText(), sha256(GoldenCase.caseA().resolve(e.getKey())), e.getKey());
        }
    }

    @Test
    void goldenArraysMatchTheirSha256AndShape() throws Exception {
        JsonNode files = MANIFEST.path("files");
        assertTrue(files.size() >= 10);
        for (Map.Entry<String, JsonNode> e : files.properties()) {
            Path file = GoldenCase.caseA().resolve("golden").resolve(e.getKey());
            assertEquals(e.getValue().path("sha256").asText(), sha256(file), e.getKey());
            int[] shape = new int[e.getValue().path("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = e.getValue().path("shape").get(i).asInt();
            Npy.Array array = Npy.read(file);
            assertArrayEquals(shape, array.shape(), e.getKey());
        }
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
