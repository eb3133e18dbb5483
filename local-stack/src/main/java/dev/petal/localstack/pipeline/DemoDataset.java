package dev.petal.localstack.pipeline;

import dev.petal.common.data.SyntheticShapes;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Which class-folder dataset the demo uses: the one asked for; else flower photos found at the
 * documented default places; else a small generated one (saying so).
 */
public final class DemoDataset {
    /** Marks a folder written by {@link #generate}, so the demo trains it with the small-image preset. */
    public static final String GENERATED_MARKER = ".petal-generated";
    /** Images per shape of the generated dataset, and their size in pixels. */
    public static final int GENERATED_PER_CLASS = 150;
    public static final int GENERATED_SIZE = 48;

    /** Where the demo looks for flower_photos-style data, in order. */
    static List<Path> defaultLocations(Path root) {
        return List.of(
                root.resolve("datasets/flower_photos"),
                root.resolve("datasets/flowers"),
                root.resolve("../shared/datasets/flowers"));
    }

    record Choice(Path dir, String name, boolean generated) {}

    private DemoDataset() {}

    static Choice choose(Path requested, Path root, Path stateDir, PrintStream out) throws IOException {
        if (requested != null) {
            if (!Files.isDirectory(requested)) {
                throw new IllegalArgumentException("--dataset " + requested + " is not a directory");
            }
            boolean generated = Files.exists(requested.resolve(GENERATED_MARKER));
            return new Choice(requested, nameOf(requested), generated);
        }
        String env = System.getenv("PETAL_DATASET");
        if (env != null && !env.isBlank() && Files.isDirectory(Path.of(env))) {
            return new Choice(Path.of(env), nameOf(Path.of(env)), false);
        }
        for (Path candidate : defaultLocations(root)) {
            if (hasClassFolders(candidate)) {
                out.println("demo: using the dataset at " + candidate.normalize());
                return new Choice(candidate.normalize(), "flowers", false);
            }
        }
        Path generated = stateDir.resolve("demo-data/shapes");
        out.println("demo: no dataset given and none at " + defaultLocations(root).stream().map(Path::normalize).toList()
                + "; generating a small one (4 shapes x " + GENERATED_PER_CLASS + " images, " + GENERATED_SIZE + " px) in " + generated);
        generate(generated, GENERATED_PER_CLASS, GENERATED_SIZE);
        return new Choice(generated, "shapes", true);
    }

    /** Writes {@code perClass} PNGs of each SyntheticShapes label into class folders. */
    public static void generate(Path dir, int perClass, int size) throws IOException {
        SyntheticShapes shapes = new SyntheticShapes(size, 42);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(GENERATED_MARKER), "written by ./petal demo: SyntheticShapes, " + size + " px\n");
        for (int label = 0; label < SyntheticShapes.LABELS.size(); label++) {
            Path classDir = dir.resolve(SyntheticShapes.LABELS.get(label));
            Files.createDirectories(classDir);
            for (int i = 0; i < perClass; i++) {
                Path file = classDir.resolve(String.format("%s-%03d.png", SyntheticShapes.LABELS.get(label), i));
                if (!Files.exists(file)) {
                    ImageIO.write(shapes.draw(label), "png", file.toFile());
                }
            }
        }
    }

    private static boolean hasClassFolders(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> children = Files.list(dir)) {
            return children.filter(Files::isDirectory).count() >= 2;
        }
    }

    private static String nameOf(Path dir) {
        Path name = dir.toAbsolutePath().normalize().getFileName();
        return name == null ? "dataset" : name.toString();
    }
}
