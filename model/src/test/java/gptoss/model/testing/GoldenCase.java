package gptoss.model.testing;

import gptoss.model.npy.Npy;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates golden case A ({@code testdata/golden/case-a} in this repository: a tiny checkpoint and the openai
 * reference implementation's float32 outputs) for tests. Nothing outside the repository is read.
 */
public final class GoldenCase {
    private static final String CASE_A = "testdata/golden/case-a";

    private GoldenCase() {
    }

    /**
     * The repository's root: the {@code gptoss.repository} property (set by the build), else the first folder
     * holding {@code testdata/golden/case-a} found walking up from the working directory.
     */
    public static Path repository() {
        String property = System.getProperty("gptoss.repository");
        if (property != null && Files.isDirectory(Path.of(property).resolve(CASE_A))) {
            return Path.of(property).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve(CASE_A))) return p;
        }
        throw new IllegalStateException(CASE_A + " not found in the repository (set -Dgptoss.repository=ROOT)");
    }

    public static Path caseA() {
        return repository().resolve(CASE_A);
    }

    public static Npy.Array golden(String file) {
        return Npy.read(caseA().resolve("golden").resolve(file));
    }
}
