package io.tollgate.cli;

/** Entry point of the runnable jar (placeholder until the CLI lands). */
public final class TollgateCli {
  private TollgateCli() {}

  public static void main(String[] args) {
    System.out.println("tollgate");
  }
}
