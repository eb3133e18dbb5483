package dev.petal.common.engine;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a class's {@code main} in a new JVM with this one's classes: work that may crash the process runs there. */
public final class ChildJvm {
    private ChildJvm() {}

    /** The command line that runs {@code mainClass} with {@code args} in a child JVM given {@code options}. */
    public static List<String> command(Class<?> mainClass, List<String> options, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.addAll(options);
        command.add("-cp");
        command.add(classpath(System.getProperty("java.class.path", "")));
        command.add(mainClass.getName());
        command.addAll(args);
        return command;
    }

    private static String javaBinary() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return Files.isExecutable(java) ? java.toString() : ProcessHandle.current().info().command().orElse("java");
    }

    /**
     * This JVM's class path, or, in a Quarkus application (which runs from {@code quarkus-run.jar} with
     * its own class loader), the application's libraries beside that jar.
     */
    static String classpath(String javaClassPath) {
        String[] entries = javaClassPath.split(File.pathSeparator);
        if (entries.length == 1 && entries[0].endsWith("quarkus-run.jar")) {
            Path app = Path.of(entries[0]).toAbsolutePath().getParent();
            return app.resolve("lib/main") + File.separator + "*" + File.pathSeparator + app.resolve("app") + File.separator + "*";
        }
        return javaClassPath;
    }
}
