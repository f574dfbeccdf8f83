// mmojo-server entry point.
#include <cstdio>

int main(int argc, char** argv) {
    (void)argc;
    (void)argv;
    std::printf("mmojo-server %s\n", MMOJO_VERSION);
    return 0;
}
