package dev.petal.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Lists a class-folder dataset (flower_photos layout): every regular file under {@code root/<label>/},
 * at any depth, labelled with that first-level folder's name. Files directly under the root (a
 * LICENSE, say) and hidden files are not images of any class and are listed as ignored.
 */
public final class DatasetScanner {

    /** A file of the dataset; {@code source} is its path relative to the root, with '/' separators. */
    public record DatasetFile(Path path, String source, String label) {}

    public record Scan(List<DatasetFile> files, List<Path> ignored) {}

    private DatasetScanner() {}

    public static Scan scan(Path root) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException(root + " is not a directory");
        }
        List<DatasetFile> files = new ArrayList<>();
        List<Path> ignored = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            // Sorted so that reports and publishing order read the same on every machine.
            walk.filter(Files::isRegularFile).sorted().forEach(path -> {
                Path relative = root.relativize(path);
                if (relative.getNameCount() < 2 || isHidden(relative)) {
                    ignored.add(path);
                } else {
                    files.add(new DatasetFile(path, toSource(relative), relative.getName(0).toString()));
                }
            });
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalArgumentException("cannot list " + root + ": " + e.getMessage(), e);
        }
        return new Scan(List.copyOf(files), List.copyOf(ignored));
    }

    static String toSource(Path relative) {
        return relative.toString().replace(relative.getFileSystem().getSeparator(), "/");
    }

    private static boolean isHidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }
}
