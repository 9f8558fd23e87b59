/* Writes the image seeds of fuzz/corpus/image/ with stb_image_write: tiny PNG, JPEG and BMP
 * files, grey and RGB. Each file is prefixed with the fuzz target's control byte (image_fuzz.cpp:
 * bits 0-1 the extension .png .jpg .bmp .jpeg, bit 2 RGB, bit 3 resize, bits 4-7 side - 1).
 *   cc -I/usr/include/stb fuzz/make_images.c -o /tmp/make_images -lm && /tmp/make_images fuzz/corpus/image */
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char buffer[1 << 16];
static int used;

static void collect(void* context, void* data, int size) {
  (void)context;
  if (used + size > (int)sizeof(buffer)) abort();
  memcpy(buffer + used, data, (size_t)size);
  used += size;
}

static void save(const char* dir, const char* name, unsigned char control) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE* f = fopen(path, "wb");
  if (!f) abort();
  fputc(control, f);
  fwrite(buffer, 1, (size_t)used, f);
  fclose(f);
  used = 0;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  unsigned char pixels[5 * 4 * 3];
  for (int i = 0; i < (int)sizeof pixels; ++i) pixels[i] = (unsigned char)(i * 37);
  /* 5 x 4 RGB and 3 x 3 grey */
  stbi_write_png_to_func(collect, NULL, 5, 4, 3, pixels, 5 * 3);
  save(argv[1], "rgb_5x4.png", 0x0 | 4 | (3 << 4));
  stbi_write_png_to_func(collect, NULL, 3, 3, 1, pixels, 3);
  save(argv[1], "grey_3x3.png", 0x0 | 8 | (7 << 4));
  stbi_write_jpg_to_func(collect, NULL, 5, 4, 3, pixels, 90);
  save(argv[1], "rgb_5x4.jpg", 0x1 | 4 | (1 << 4));
  stbi_write_jpg_to_func(collect, NULL, 3, 3, 1, pixels, 50);
  save(argv[1], "grey_3x3.jpeg", 0x3 | (2 << 4));
  stbi_write_bmp_to_func(collect, NULL, 5, 4, 3, pixels);
  save(argv[1], "rgb_5x4.bmp", 0x2 | 4 | 8 | (4 << 4));
  stbi_write_bmp_to_func(collect, NULL, 2, 2, 4, pixels);
  save(argv[1], "rgba_2x2.bmp", 0x2 | (0 << 4));
  return 0;
}
