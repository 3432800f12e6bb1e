package gptoss.model.testing;

import gptoss.model.npy.Npy;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates {@code ../shared/golden/case-a} (the reference implementation's float32 outputs) for tests. */
public final class GoldenCase {
    private GoldenCase() {
    }

    /** The shared folder: the {@code gptoss.shared} property, else the first {@code shared/} found walking up. */
    public static Path shared() {
        String property = System.getProperty("gptoss.shared");
        if (property != null && Files.isDirectory(Path.of(property))) return Path.of(property).normalize();
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("golden"))) return candidate;
        }
        throw new IllegalStateException("shared/ with golden cases not found (set -Dgptoss.shared)");
    }

    public static Path caseA() {
        return shared().resolve("golden/case-a");
    }

    public static Npy.Array golden(String file) {
        return Npy.read(caseA().resolve("golden").resolve(file));
    }
}
