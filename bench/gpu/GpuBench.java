import dev.petal.tools.BenchCommand;
import picocli.CommandLine;

/** ./petal bench without the Quarkus runner: the same BenchCommand, for a machine that has only a JRE. */
public class GpuBench {
    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }
}
